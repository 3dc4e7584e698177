"""Error clicks (type 5005) in ``reprocess_replays`` and the settings preview, on the real endpoint,
broker and database: the SDK's ``error`` capture (its click's handler throws; the error is an
event of its own) stored by the replays and replay-errors consumers. Reprocessing publishes the
consumer's error click again (same id, same evidence) and the issues consumer counts nothing
twice; a draft that enables error clicks counts them in the preview's "after" column; a draft's
noise threshold decides which issues would appear."""

import io
import json

import pytest
from django.core.management import call_command

from issues.models import Issue
from issues.models import Occurrence as OccurrenceRow
from replays.models import DetectionSettings, PreviewRun
from tests.replay_errors.messages import error_request
from tests.replay_errors.test_click_windows import (
    consume_events,
    consume_occurrences,
    consume_segments,
    post_all,
    published,
)
from tests.replays.test_preview import finished, preview, types
from tests.sdk_fixtures import scenario_replay_requests

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("events_topic", "recordings_topic", "occurrences_topic"),
]

ERROR_CLICK = "replay_error_click"
# The ``error`` capture's clicks as the default settings see them: one dead click (the button
# whose handler throws does nothing else), and that click as an error click once enabled.
CONSUMED = {"replay_dead_click": 1}


def store_error_capture(client, project_id: int, error_clicks: bool) -> None:
    """The capture as the SDK sent it (the event first), through both consumers."""
    DetectionSettings.objects.filter(project_id=project_id).update(
        error_clicks_enabled=error_clicks
    )
    segments = scenario_replay_requests("error")
    post_all(client, [error_request()])
    consume_events(1)
    post_all(client, segments)
    consume_segments(len(segments))


def reprocess(project_id: int) -> dict:
    out = io.StringIO()
    call_command("reprocess_replays", "--project", str(project_id), "--json", stdout=out)
    return json.loads(out.getvalue())


def test_reprocessing_publishes_the_consumers_error_click_and_counts_it_once(
    client, sdk_project, topic_reader
):
    project_id = sdk_project.project_id
    store_error_capture(client, project_id, error_clicks=True)
    consumed = published(topic_reader)
    [error_click] = [o for o in consumed if o["type"] == 5005]
    consume_occurrences(len(consumed))
    counted = dict(Issue.objects.values_list("type", "times_seen"))
    assert counted == {**CONSUMED, ERROR_CLICK: 1}

    result = reprocess(project_id)

    assert result["occurrences"] == {**CONSUMED, ERROR_CLICK: 1}
    assert result["new_issues"] == 0
    again = published(topic_reader)[len(consumed) :]
    [reprocessed] = [o for o in again if o["type"] == 5005]
    assert reprocessed["id"] == error_click["id"]
    assert reprocessed["fingerprint"] == error_click["fingerprint"]
    assert reprocessed["evidence_data"] == error_click["evidence_data"]
    # Reprocessed twice: each id published again, each counted once.
    reprocess(project_id)
    consume_occurrences(len(published(topic_reader)))
    assert dict(Issue.objects.values_list("type", "times_seen")) == counted
    assert (
        OccurrenceRow.objects.filter(issue__type=ERROR_CLICK).get().occurrence_id
        == (error_click["id"])
    )


def test_a_draft_that_enables_error_clicks_counts_them_in_the_after_column(
    client, admin_client, sdk_project, topic_reader
):
    project_id = sdk_project.project_id
    store_error_capture(client, project_id, error_clicks=False)
    assert [o["type"] for o in published(topic_reader)] == [5001]

    run = finished(admin_client, preview(admin_client, project_id, error_clicks_enabled="on"))

    assert types(run) == {
        "replay_dead_click": (1, 1),
        "replay_rage_click": (0, 0),
        "replay_slow_click": (0, 0),
        "replay_hydration_error": (0, 0),
        ERROR_CLICK: (0, 1),
    }
    [appears] = run.result["appear"]
    assert (appears["type"], appears["occurrences"], appears["issue_id"]) == (ERROR_CLICK, 1, None)
    assert run.result["gained"] == [
        {
            "type": ERROR_CLICK,
            "selector": "body > section#lab > button#coupon.btn",
            "before": 0,
            "after": 1,
        }
    ]
    page = admin_client.get(f"/admin/replays/detectionsettings/{project_id}/change/").status_code
    assert page == 200
    # A preview publishes nothing.
    assert [o["type"] for o in published(topic_reader)] == [5001]


def test_a_draft_noise_threshold_above_an_elements_count_keeps_its_issue_from_appearing(
    client, admin_client, sdk_project
):
    project_id = sdk_project.project_id
    store_error_capture(client, project_id, error_clicks=False)

    above = finished(
        admin_client,
        preview(admin_client, project_id, error_clicks_enabled="on", noise_threshold="2"),
    )
    # Found (one occurrence), but below the draft's threshold of 2: no issue anyone would see.
    assert types(above)[ERROR_CLICK] == (0, 1)
    assert (above.result["appear"], above.result["appear_total"]) == ([], 0)

    # One distinct user is enough when the draft says so (the capture's user, u-77).
    PreviewRun.objects.all().delete()  # ``finished`` reads the one run
    by_users = finished(
        admin_client,
        preview(
            admin_client,
            project_id,
            error_clicks_enabled="on",
            noise_threshold="2",
            noise_threshold_users="1",
        ),
    )
    assert [issue["type"] for issue in by_users.result["appear"]] == [ERROR_CLICK]
