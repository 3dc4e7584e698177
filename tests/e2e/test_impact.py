"""End to end: the SDK's captures posted to a running devstack give each issue its impact, the
sessions on its page and the clicks on its element counted by the replays consumer from what it
already reads (the replay_event's urls, the SDK's ``ui.click`` breadcrumbs)."""

from tests.sdk_fixtures import replay_requests

BUY = "body > button#buy.btn.primary"


def test_the_captures_issues_carry_their_impact_and_sort_by_it(devstack):
    api = devstack.api()
    devstack.post_all(replay_requests())

    issues = devstack.issues(api, until=lambda issues: len(issues) >= 5)
    impact = {(i["type"], i["metadata"]["selector"]): i["impact"] for i in issues}
    # The capture's one session visited /index.html and /cart; it clicked the buy button twice
    # (two ui.click breadcrumbs: the rage clicks are one ui.multiClick), the others once.
    one_session = {"page_sessions": 1, "page_share": 1.0}
    assert impact[("replay_dead_click", BUY)] == {
        **one_session,
        "element_clicks": 2,
        "element_share": 0.5,
    }
    assert impact[("replay_rage_click", BUY)] == {
        **one_session,
        "element_clicks": 2,
        "element_share": 0.5,
    }
    for selector in ("body > button#slowok.btn", "body > nav > a#cart"):
        kind = "replay_slow_click" if "slowok" in selector else "replay_dead_click"
        assert impact[(kind, selector)] == {
            **one_session,
            "element_clicks": 1,
            "element_share": 1.0,
        }

    by_impact = api.get(
        f"{devstack.base_url}/api/0/projects/42/issues/?sort=impact", timeout=10
    ).json()["results"]
    assert len(by_impact) == 5
    assert all(issue["impact"]["page_share"] == 1.0 for issue in by_impact)
