"""End to end, as the issue's "done when" runs it: a rule made through the REST API on a running
``devstack`` pointing at a receiver on this machine, the captured envelopes posted: the receiver
gets five signed ``new_issue`` alerts, one per issue, from the devstack's own delivery worker."""

import hashlib
import hmac
import time

from tests.alerts.receivers import receiving
from tests.sdk_fixtures import replay_requests

SECRET = "e2e-secret-e2e-secret"


def test_the_captured_envelopes_give_five_signed_new_issue_alerts(devstack):
    api = devstack.api()
    with receiving() as receiver:
        made = api.post(
            f"{devstack.base_url}/api/0/projects/42/alert-rules/",
            json={
                "name": "new issues",
                "trigger": "new_issue",
                "action": {"type": "webhook", "url": receiver.url, "secret": SECRET},
            },
            timeout=10,
        )
        assert made.status_code == 201, made.text

        devstack.post_all(replay_requests())

        deadline = time.monotonic() + 60
        while len(receiver.received) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # a sixth would come now, if one were decided
        received = list(receiver.received)

    assert len(received) == 5, devstack.output()[-3000:]
    assert len({request.headers["X-Replay-Issues-Delivery"] for request in received}) == 5
    for request in received:
        digest = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Replay-Issues-Signature"] == f"sha256={digest}"
        body = request.json
        assert body["action"] == "new_issue"
        assert body["issue"]["web_url"].startswith(f"{devstack.base_url}/issues/")
    deliveries = api.get(
        f"{devstack.base_url}/api/0/projects/42/alert-rules/{made.json()['id']}/deliveries/",
        timeout=10,
    ).json()["results"]
    assert sorted(d["status"] for d in deliveries) == ["sent"] * 5
