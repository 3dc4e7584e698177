"""The replay_errors migration from the previous schema with data: a new table, nothing else
touched; an error event can be stored for an existing project and replay once it ran."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ingest.models import Project
from replay_errors.models import ReplayErrorEvent
from replays.models import Replay

BEFORE = [("replay_errors", None)]
REPLAY_ID = "5312c198e4ad48a084cad9ad9fd09047"


def migrate_to(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_existing_projects_and_replays_stay_and_take_error_events():
    after = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate_to(BEFORE)
        others = [node for node in after if node[0] != "replay_errors"]
        old = MigrationExecutor(connection).loader.project_state(others).apps
        old.get_model("organizations", "Organization").objects.create(id=7, name="Acme", slug="a")
        old.get_model("ingest", "Project").objects.create(id=42, name="shop", org_id=7)
        old.get_model("replays", "Replay").objects.create(
            project_id=42, replay_id=REPLAY_ID, segment_count=3, error_ids=["afe5"]
        )

        migrate_to(after)

        replay = Replay.objects.get()
        assert (replay.project_id, replay.replay_id.hex) == (42, REPLAY_ID)
        assert (replay.segment_count, replay.error_ids) == (3, ["afe5"])
        moment = datetime(2026, 12, 1, tzinfo=UTC)
        ReplayErrorEvent.objects.create(
            project=Project.objects.get(),
            replay_id=REPLAY_ID,
            event_id="afe5f589518146b1b260732c9ebe0f02",
            timestamp=moment,
            received_at=moment,
            type="TypeError",
        )
        assert ReplayErrorEvent.objects.get(replay_id=replay.replay_id).type == "TypeError"
    finally:
        migrate_to(after)
