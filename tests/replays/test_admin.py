"""The admin pages of replays: stored replays (read-only) and each project's detection settings."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse

from issues.queries import creation_quota_for
from issues.services import CreationQuota
from replays.detection.detect import decode_segment, detect_clicks
from replays.models import DetectionSettings, Replay
from replays.queries import detection_settings_for
from replays.services import replay_record_segment
from tests.replays.messages import MAX_INFLATED_BYTES, fixture_messages

pytestmark = pytest.mark.django_db


def store_fixture_replay(project_id: int) -> Replay:
    for raw in fixture_messages(project_id=project_id):
        decoded = decode_segment(raw, MAX_INFLATED_BYTES)
        replay_record_segment(
            decoded, detect_clicks(decoded, detection_settings_for(project_id), time.time())
        )
    return Replay.objects.get()


def test_replays_are_listed_and_shown_with_their_segments(admin_client, sdk_project):
    replay = store_fixture_replay(sdk_project.project_id)
    listing = admin_client.get(reverse("admin:replays_replay_changelist"), {"q": "u-77"})
    assert listing.status_code == 200
    assert str(replay.replay_id).encode() in listing.content

    page = admin_client.get(reverse("admin:replays_replay_change", args=[replay.pk]))
    assert page.status_code == 200
    assert page.content.count(b".rrweb.zlib") == replay.segment_count == 7
    assert admin_client.get(reverse("admin:replays_replay_add")).status_code == 403
    # "View on site" plays it in the web UI.
    player = reverse("issues:replay", args=[replay.project_id, replay.replay_id])
    assert player.encode() in page.content
    assert admin_client.get(player).status_code == 200


def test_every_project_gets_default_settings_that_the_admin_changes(admin_client, sdk_project):
    row = DetectionSettings.objects.get(project=sdk_project.project)
    url = reverse("admin:replays_detectionsettings_change", args=[row.pk])
    assert admin_client.get(url).status_code == 200
    form = {
        "project": sdk_project.project_id,
        "dead_clicks_enabled": "on",
        "slow_clicks_enabled": "on",
        "dead_click_sample_rate": "0.5",
        "rage_click_sample_rate": "1",
        "slow_click_sample_rate": "0",
        "hydration_error_sample_rate": "0.25",
        "error_clicks_enabled": "on",
        "error_click_sample_rate": "0.75",
        "dead_click_ms": "8000",
        "slow_click_ms": "3500",
        "rage_click_count": "4",
        "error_click_ms": "1500",
        "ignore_selectors": "#buy\nnav > a",
        "noise_threshold": "3",
        "noise_threshold_users": "",
        "issue_quota": "10",
        "issue_quota_window_s": "600",
    }
    assert admin_client.post(url, form).status_code == 302

    detection = detection_settings_for(sdk_project.project_id)
    assert set(detection.enabled) == {
        "replay_dead_click",
        "replay_slow_click",
        "replay_error_click",
    }
    assert detection.sample_rates["replay_hydration_error"] == 0.25
    assert detection.sample_rates["replay_error_click"] == 0.75
    assert detection.thresholds.error_click_ms == 1500
    assert detection.thresholds.dead_click_ms == 8000
    assert detection.thresholds.rage_click_count == 4
    assert [rule.text for rule in detection.ignore] == ["#buy", "nav > a"]
    assert creation_quota_for(sdk_project.project_id) == CreationQuota(10, timedelta(minutes=10))

    refused = admin_client.post(url, {**form, "dead_click_sample_rate": "1.5"})
    assert refused.status_code == 200
    assert b"less than or equal to 1" in refused.content
