"""The migration that keeps each segment's replay_event, from the previous schema with data: the
segments stored before keep their rows, with no replay_event (their replay's fields stand in)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from replays.models import ReplaySegment
from replays.reprocessing import replay_event_of

BEFORE = [("ingest", "0004_project_slug_and_issue_counter"), ("replays", "0004_issue_quota")]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def migrate_to(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_segments_stored_before_keep_their_rows_and_read_their_replays_fields():
    after = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate_to(BEFORE)
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        old.get_model("organizations", "Organization").objects.create(id=5, name="O", slug="o")
        old.get_model("ingest", "Project").objects.create(id=1, name="Shop", org_id=5)
        replay = old.get_model("replays", "Replay").objects.create(
            project_id=1,
            replay_id="0f3c9a1e2b7d4c5e8a6b9d0e1f2a3b4c",
            urls=["https://shop.example.com/cart", "https://shop.example.com/pay"],
            user_id="u-1",
            release="shop@1.0",
            environment="prod",
            browser="Chrome",
        )
        old.get_model("replays", "ReplaySegment").objects.create(
            replay=replay,
            segment_id=0,
            recording="1/0f3c/0.rrweb.zlib",
            compressed_size=10,
            size=20,
            timestamp=T0,
            received_at=T0,
            dead_clicks=2,
        )
        migrate_to(after)
    finally:
        migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())

    segment = ReplaySegment.objects.select_related("replay").get()
    assert (segment.segment_id, segment.dead_clicks, segment.replay_event) == (0, 2, None)
    event = replay_event_of(segment, segment.replay)
    assert (event.user.id, event.release, event.environment) == ("u-1", "shop@1.0", "prod")
    assert event.client.browser == "Chrome"
    assert event.request_url == "https://shop.example.com/cart"
    assert event.timestamp == T0.timestamp()
