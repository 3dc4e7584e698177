"""``manage.py purge_replays``: replays past their retention go, with their segments and their
recording files; younger replays and every issue stay."""

from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.utils import timezone

from issues.models import Issue, Occurrence
from replays.models import Replay, ReplaySegment
from replays.services import replay_purge_expired
from tests.issues.builders import store_fixture_replay

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_replays(sdk_project):
    """The captured replay in two projects' worth of rows: one ingested 31 days ago with 30 days'
    retention, one ingested now with 90."""
    other = type(sdk_project.project).objects.create(id=43, name="other", org_id=7)
    store_fixture_replay(sdk_project.project_id)
    store_fixture_replay(other.id)
    old = Replay.objects.get(project_id=sdk_project.project_id)
    Replay.objects.filter(pk=old.pk).update(
        retention_days=30, created_at=timezone.now() - timedelta(days=31)
    )
    old.refresh_from_db()
    young = Replay.objects.get(project_id=other.id)
    return old, young


def test_expired_replays_lose_their_rows_and_files_and_the_rest_stays(two_replays, capsys):
    old, young = two_replays
    storage = storages["recordings"]
    old_files = list(old.segments.values_list("recording", flat=True))
    issues_before = Issue.objects.count()
    assert all(storage.exists(name) for name in old_files)

    call_command("purge_replays")

    assert capsys.readouterr().out.splitlines() == [
        f"purged 1 replays ({len(old_files)} segments)",
        "purged 0 error events",
    ]
    assert list(Replay.objects.all()) == [young]
    assert not ReplaySegment.objects.filter(replay_id=old.pk).exists()
    assert not any(storage.exists(name) for name in old_files)
    assert all(storage.exists(s.recording) for s in young.segments.all())
    assert Issue.objects.count() == issues_before
    assert Occurrence.objects.filter(project_id=old.project_id).exists()


def test_purging_again_or_before_the_time_changes_nothing(two_replays):
    old, _ = two_replays
    assert replay_purge_expired(old.created_at + timedelta(days=29)).replays == 0
    assert replay_purge_expired(timezone.now()).replays == 1
    assert replay_purge_expired(timezone.now()).replays == 0


def test_batches_cover_every_expired_replay(two_replays):
    Replay.objects.update(retention_days=1, created_at=timezone.now() - timedelta(days=2))
    purged = replay_purge_expired(timezone.now(), batch_size=1)
    assert (purged.replays, Replay.objects.count(), ReplaySegment.objects.count()) == (2, 0, 0)
