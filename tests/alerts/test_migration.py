"""alerts' first migration on a database that already has issues: they stay as they were, and a
rule can be made for their project at once."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from alerts.models import AlertRule
from issues.models import Issue
from tests.issues.builders import fixture_occurrences, record

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_first_migration_keeps_existing_issues(sdk_project):
    for occurrence in fixture_occurrences():
        record(occurrence)
    before_rows = sorted(Issue.objects.values_list("pk", "type", "times_seen"))
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("alerts", None)])  # as before the app existed
        assert "alerts_alertrule" not in connection.introspection.table_names()
        MigrationExecutor(connection).migrate([("alerts", "0001_initial")])
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    assert sorted(Issue.objects.values_list("pk", "type", "times_seen")) == before_rows
    rule = AlertRule.objects.create(
        project_id=sdk_project.project_id, name="r", trigger="new_issue", action={}
    )
    assert rule.deliveries.count() == 0
