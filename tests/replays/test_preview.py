"""The detection settings preview in the admin, over replays stored by the real endpoint and
consumer: the draft validated and queued (never run in the request), the ``run_previews`` worker's
comparison of the current settings with the draft (counts exact), nothing published; saving the
draft and applying it to the stored replays; only for who may edit the project."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from issues.models import Occurrence
from organizations.models import Organization
from replays.models import DetectionSettings, PreviewRun
from replays.previews import STALE_AFTER, preview_claim_next
from tests.consumers import start_occurrences_consumer, wait_until
from tests.replays.stored_replays import DEFAULT_OCCURRENCES, store_captures

pytestmark = pytest.mark.django_db(transaction=True)

SAVED_FORM = {
    "dead_clicks_enabled": "on",
    "rage_clicks_enabled": "on",
    "slow_clicks_enabled": "on",
    "dead_click_sample_rate": "1",
    "rage_click_sample_rate": "1",
    "slow_click_sample_rate": "1",
    "hydration_error_sample_rate": "1",
    "error_click_sample_rate": "1",
    "dead_click_ms": "7000",
    "slow_click_ms": "3000",
    "rage_click_count": "5",
    "error_click_ms": "1000",
    "ignore_selectors": "",
    "noise_threshold": "1",
    "noise_threshold_users": "",
    "issue_quota": "5",
    "issue_quota_window_s": "3600",
}


def change_url(project_id: int) -> str:
    return reverse("admin:replays_detectionsettings_change", args=[project_id])


def preview(client, project_id: int, days: int = 7, **draft: str):
    form = {**SAVED_FORM, "project": project_id, **draft, "_preview": "Preview"}
    return client.post(change_url(project_id), {**form, "preview_days": str(days)})


def finished(client, response) -> PreviewRun:
    """The queued run carried out by the worker, and its page read once done."""
    assert response.status_code == 302, response.content[:500]
    run = PreviewRun.objects.get()
    assert run.status == PreviewRun.Status.QUEUED  # queued, not run in the request
    call_command("run_previews", "--once")
    run.refresh_from_db()
    assert run.status == PreviewRun.Status.DONE, run.error
    page = client.get(response["Location"])
    assert page.status_code == 200
    return run


def types(run: PreviewRun) -> dict[str, tuple[int, int]]:
    return {row["type"]: (row["before"], row["after"]) for row in run.result["types"]}


def test_a_higher_dead_click_threshold_turns_the_dead_clicks_into_slow_ones_and_saves_nothing(
    admin_client, sdk_project, recordings_topic, occurrences_topic, topic_reader
):
    store_captures(admin_client)
    project_id = sdk_project.project_id
    assert admin_client.get(change_url(project_id)).content.count(b'name="_preview"') == 1

    response = preview(admin_client, project_id, dead_click_ms="8000")
    run = finished(admin_client, response)

    # The SDK gives up on a click after 7 s: past an 8 s threshold none is dead (nor rage), and
    # each is a late answer, a slow click.
    assert types(run) == {
        "replay_dead_click": (3, 0),
        "replay_rage_click": (1, 0),
        "replay_slow_click": (1, 5),
        "replay_hydration_error": (0, 0),
    }
    assert (run.result["segments"], run.result["replays"]) == (7, 1)
    assert (run.result["appear_total"], run.result["stop_total"]) == (3, 4)
    assert run.covered_since <= run.covered_until
    assert DetectionSettings.objects.get(project_id=project_id).dead_click_ms == 7000
    # Nothing published by the preview: the topic holds the consumer's five only.
    published = sum(DEFAULT_OCCURRENCES.values())
    assert len(topic_reader(occurrences_topic, published + 1, timeout_s=3)) == published
    progress = admin_client.get(f"{response['Location']}progress.json").json()
    assert progress == {
        "status": "done",
        "status_display": "Done",
        "done": 7,
        "total": 7,
        "error": "",
    }


def test_an_ignored_selector_takes_its_issue_out_of_the_after_column(
    admin_client, sdk_project, recordings_topic, occurrences_topic
):
    store_captures(admin_client)
    response = preview(admin_client, sdk_project.project_id, ignore_selectors="nav > a#cart")
    run = finished(admin_client, response)

    assert types(run)["replay_dead_click"] == (3, 2)
    assert run.result["appear"] == []
    assert [(issue["type"], issue["occurrences"]) for issue in run.result["stop"]] == [
        ("replay_dead_click", 1)
    ]
    assert run.result["lost"] == [
        {"type": "replay_dead_click", "selector": "body > nav > a#cart", "before": 1, "after": 0}
    ]
    assert run.result["gained"] == []
    page = admin_client.get(response["Location"]).content.decode()
    assert "body &gt; nav &gt; a#cart" in page
    # Where it was clicked: the page /cart, its fragment folded as on the issue pages.
    assert run.result["stop"][0]["culprit"] == "http://127.0.0.1:18766/cart#cart"
    assert "<td>http://127.0.0.1:18766/cart</td>" in page
    assert "/cart#cart" not in page


def test_an_invalid_draft_is_refused_with_its_errors_and_queues_nothing(admin_client, sdk_project):
    response = preview(admin_client, sdk_project.project_id, dead_click_sample_rate="1.5")
    assert response.status_code == 200
    assert b"less than or equal to 1" in response.content
    assert not PreviewRun.objects.exists()
    out_of_range = preview(admin_client, sdk_project.project_id, days=31, dead_click_ms="8000")
    assert out_of_range.status_code == 302
    assert not PreviewRun.objects.exists()
    assert DetectionSettings.objects.get(project_id=sdk_project.project_id).dead_click_ms == 7000


def test_the_previewed_draft_is_saved_then_applied_to_the_stored_replays(
    admin_client, sdk_project, recordings_topic, occurrences_topic
):
    project_id = sdk_project.project_id
    DetectionSettings.objects.filter(project_id=project_id).update(slow_clicks_enabled=False)
    store_captures(admin_client, grouped=4)  # no slow click yet

    run = finished(admin_client, preview(admin_client, project_id))
    assert types(run)["replay_slow_click"] == (0, 1)
    applied = admin_client.post(
        reverse("admin:replays_detectionsettings_preview_apply", args=[project_id, run.pk]),
        {"apply": "1", "apply_days": "3"},
    )
    assert applied.status_code == 302
    assert DetectionSettings.objects.get(project_id=project_id).slow_clicks_enabled
    apply_run = PreviewRun.objects.get(kind=PreviewRun.Kind.APPLY)
    assert apply_run.days == 3

    consumer = start_occurrences_consumer()
    try:
        call_command("run_previews", "--once")
        apply_run.refresh_from_db()
        assert apply_run.status == PreviewRun.Status.DONE, apply_run.error
        assert apply_run.result["occurrences"] == DEFAULT_OCCURRENCES
        assert apply_run.result["new_issues"] == 1
        wait_until(lambda: Occurrence.objects.count() == 5, what="only the slow click added")
    finally:
        consumer.stop()
    assert Occurrence.objects.count() == 5
    assert admin_client.get(applied["Location"]).status_code == 200


def test_another_organizations_staff_can_neither_run_nor_see_a_preview(
    client, admin_client, sdk_project, django_user_model
):
    project_id = sdk_project.project_id
    theirs = finished_run = preview(admin_client, project_id)
    assert theirs.status_code == 302
    finished_run = PreviewRun.objects.get()
    other = Organization.objects.create(id=8, name="Globex", slug="globex")
    user = django_user_model.objects.create_user("bob", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_detectionsettings", "change_detectionsettings"]
        )
    )
    other.members.add(user)
    client.force_login(user)

    assert preview(client, project_id).status_code == 404
    page = reverse("admin:replays_detectionsettings_preview", args=[project_id, finished_run.pk])
    assert client.get(page).status_code == 404
    assert client.get(f"{page}progress.json").status_code == 404
    assert PreviewRun.objects.count() == 1

    # A member of the project's organization with the same permissions may.
    sdk_project.project.org.members.add(user)
    assert preview(client, project_id).status_code == 302
    assert client.get(page).status_code == 200


def test_a_run_whose_worker_died_is_taken_over_and_a_live_one_is_left_alone(sdk_project):
    now = datetime.now(UTC)
    project_id = sdk_project.project_id
    live = PreviewRun.objects.create(
        project_id=project_id, days=1, status=PreviewRun.Status.RUNNING, heartbeat_at=now
    )
    dead = PreviewRun.objects.create(
        project_id=project_id,
        days=1,
        status=PreviewRun.Status.RUNNING,
        heartbeat_at=now - STALE_AFTER - timedelta(seconds=1),
        done=40,
    )

    taken = preview_claim_next(now)

    assert taken.pk == dead.pk
    assert (taken.status, taken.done, taken.heartbeat_at) == (PreviewRun.Status.RUNNING, 0, now)
    assert preview_claim_next(now) is None
    live.refresh_from_db()
    assert live.heartbeat_at == now
    call_command("run_previews", "--once")  # nothing claimable: it returns


def test_the_workers_healthcheck_file_is_touched_while_a_run_progresses(
    admin_client, sdk_project, recordings_topic, occurrences_topic, tmp_path, monkeypatch
):
    """A run of minutes is not a hung worker: the file the container's healthcheck reads is
    touched with the run's progress, not only between runs."""
    store_captures(admin_client)
    project_id = sdk_project.project_id
    preview(admin_client, project_id, dead_click_ms="9000")
    health = tmp_path / "health"
    touched_at_progress = []
    real_touch = type(health).touch

    def touch(path, *args, **kwargs):
        real_touch(path, *args, **kwargs)
        run = PreviewRun.objects.get()
        touched_at_progress.append((run.status, run.done))

    monkeypatch.setattr(type(health), "touch", touch)
    call_command("run_previews", "--once", "--healthcheck-file", str(health))
    assert health.exists()
    assert PreviewRun.objects.get().status == PreviewRun.Status.DONE
    # once before claiming the run, then with its progress while it ran
    assert touched_at_progress[0] == (PreviewRun.Status.QUEUED, 0)
    assert [done for status, done in touched_at_progress[1:] if status == "running"]
