"""The migration that adds the error-click settings, from the previous schema with data: a
project's settings keep every value an operator chose, and error clicks start as the registry
says (off), sampled at 1 and with a window of 1000 ms."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from replays.models import DetectionSettings

BEFORE = [("replays", "0007_click_windows")]


def migrate_to(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_settings_stored_before_keep_their_values_and_get_the_error_click_defaults():
    after = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate_to(BEFORE)
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        old.get_model("organizations", "Organization").objects.create(id=5, name="O", slug="o")
        old.get_model("ingest", "Project").objects.create(id=1, name="Shop", org_id=5)
        old.get_model("replays", "DetectionSettings").objects.update_or_create(
            project_id=1,
            defaults={"dead_click_ms": 6000, "slow_clicks_enabled": False, "noise_threshold": 3},
        )
        migrate_to(after)
    finally:
        migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())

    row = DetectionSettings.objects.get(project_id=1)
    assert (row.dead_click_ms, row.slow_clicks_enabled, row.noise_threshold) == (6000, False, 3)
    assert (row.error_clicks_enabled, row.error_click_sample_rate, row.error_click_ms) == (
        False,
        1.0,
        1000,
    )
