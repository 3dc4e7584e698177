"""End to end, as a user runs it: the ``error`` capture (an error event sent before the replay's
first segment) posted to a running ``devstack`` shows in the replay's API answer under ``errors``,
kept by ``consume_replay_events`` as devstack starts it."""

import time

from tests.sdk_fixtures import scenario_requests

REPLAY_ID = "5312c198e4ad48a084cad9ad9fd09047"


def test_the_error_capture_shows_in_its_replay(devstack):
    api = devstack.api()
    devstack.post_all(scenario_requests("error"))

    url = f"{devstack.base_url}/api/0/projects/42/replays/{REPLAY_ID}/"
    replay: dict = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not replay.get("errors"):
        response = api.get(url, timeout=10)
        assert response.status_code in (200, 404), response.text
        replay = response.json() if response.status_code == 200 else {}
        time.sleep(0.2)

    assert [(e["event_id"], e["type"], e["level"]) for e in replay["errors"]] == [
        ("afe5f589518146b1b260732c9ebe0f02", "TypeError", "error")
    ], devstack.output()
    assert replay["errors"][0]["value"] == "Cannot read properties of null (reading 'code')"
    assert replay["error_ids"] == ["afe5f589518146b1b260732c9ebe0f02"]
