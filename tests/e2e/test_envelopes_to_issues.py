"""End to end, as a user runs it: the SDK's captured envelopes posted to a running ``devstack``
appear as the five expected issues in the REST API, each linking to its replay."""

import time

import requests

from tests.sdk_fixtures import replay_requests, scenario_requests

EXPECTED = sorted(
    [
        ("replay_dead_click", "body > button#buy.btn.primary", "/index.html"),
        ("replay_rage_click", "body > button#buy.btn.primary", "/index.html"),
        ("replay_slow_click", "body > button#slowok.btn", "/index.html"),
        ("replay_dead_click", "body > nav > a#cart", "/cart"),
        ("replay_dead_click", 'body > input#submit[type="submit"]', "/cart"),
    ]
)


def seen(issues: list[dict]) -> int:
    return sum(issue["times_seen"] for issue in issues)


def summary(issue: dict) -> tuple[str, str, str]:
    path = "/" + issue["metadata"]["url"].split("/", 3)[3].split("#")[0]
    return issue["type"], issue["metadata"]["selector"], path


def test_the_captured_envelopes_become_five_issues_in_the_api(devstack):
    api = devstack.api()
    devstack.post_all(replay_requests())

    issues_url = f"{devstack.base_url}/api/0/projects/42/issues/"
    issues = devstack.issues(api, until=lambda issues: len(issues) >= len(EXPECTED))
    assert sorted(summary(issue) for issue in issues) == EXPECTED
    assert all(issue["times_seen"] == issue["users_seen"] == 1 for issue in issues)
    assert all(issue["status"] == "unresolved" for issue in issues)

    # Each issue's occurrence links into the captured replay, which the replays consumer stored.
    rage = next(issue for issue in issues if issue["type"] == "replay_rage_click")
    occurrences = api.get(f"{devstack.base_url}/api/0/issues/{rage['id']}/occurrences/")
    occurrence = occurrences.json()["results"][0]
    assert occurrence["replay_id"].replace("-", "") == "40196c4efd834eedaa8e1947c813b364"
    replay = api.get(
        f"{devstack.base_url}/api/0/projects/42/replays/{occurrence['replay_id']}/", timeout=10
    )
    assert replay.status_code == 200, replay.text
    assert replay.json()["segment_count"] == len(replay_requests())

    # Nothing without a token.
    assert requests.get(issues_url, timeout=10).status_code in (401, 403)

    # The web server's /metrics adds up every devstack process: the web workers' envelopes and
    # the consumers' segments and occurrences.
    def scrape() -> dict[str, str]:
        text = requests.get(f"{devstack.base_url}/metrics", timeout=10).text
        return dict(line.rsplit(" ", 1) for line in text.splitlines() if line[:1] not in "#")

    # A segment is counted just after its row is stored: give the last one a moment.
    deadline = time.monotonic() + 10
    samples = scrape()
    while samples.get("replay_issues_segments_processed_total") != "7.0":
        assert time.monotonic() < deadline, samples
        time.sleep(0.1)
        samples = scrape()
    assert float(samples['replay_issues_envelopes_total{outcome="accepted",reason=""}']) == 7
    assert float(samples["replay_issues_segments_processed_total"]) == len(replay_requests())
    produced = 'replay_issues_occurrences_produced_total{type="replay_dead_click"}'
    assert float(samples[produced]) == 3


def test_the_hydrate_capture_becomes_one_hydration_error_issue_per_page(devstack):
    """The hydrate scenario as the SDK sent it (sessions, error events, three segments): its
    hydration errors on /index.html and /cart are two issues of the registry's type, beside the
    session's two dead clicks, each linking to the replay at that moment."""
    api = devstack.api()
    devstack.post_all(scenario_requests("hydrate"))

    issues = devstack.issues(api, until=lambda issues: seen(issues) >= 5)
    # The two dead clicks are on one button with a test id, on two pages: one issue.
    assert sorted((issue["type"], issue["culprit"], issue["times_seen"]) for issue in issues) == [
        ("replay_dead_click", "http://127.0.0.1:18766/index.html", 2),
        ("replay_hydration_error", "/cart", 2),
        ("replay_hydration_error", "/index.html", 1),
    ]
    hydration = [issue for issue in issues if issue["type"] == "replay_hydration_error"]
    assert {issue["title"] for issue in hydration} == {"Hydration Error"}
    for issue in hydration:
        page = api.get(f"{devstack.base_url}/api/0/issues/{issue['id']}/occurrences/", timeout=10)
        occurrence = page.json()["results"][0]
        assert occurrence["replay_id"].replace("-", "") == "90e1eddb40b641899ece15447de2fb5a"
        assert "occurrence=" + occurrence["id"] in occurrence["replay_url"]


def test_the_hashed_capture_stays_one_issue_per_button_across_a_deploy(devstack):
    """Two buttons, each dead-clicked before and after a deploy that changed their class hashes:
    two issues of two occurrences each, not four."""
    api = devstack.api()
    devstack.post_all(scenario_requests("hashed"))

    issues = devstack.issues(api, until=lambda issues: seen(issues) >= 4)
    assert sorted((i["type"], i["metadata"]["text"], i["times_seen"]) for i in issues) == [
        ("replay_dead_click", "Pay", 2),
        ("replay_dead_click", "Use gift card", 2),
    ]
