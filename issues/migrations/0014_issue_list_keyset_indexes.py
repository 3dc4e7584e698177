"""The issue list's indexes (issue 23); no row changes.

- The sort indexes gain their tie-breaking columns, down to the id, so that a page after a
  cursor is one range of an index whatever the ties (a sort by impact or times seen has
  thousands of equal values).
- The issues not unresolved get a partial index by status (the status tabs' bounded counts
  under a filter), and the few ignored until a time one of their own (read before every list).
- PostgreSQL only: statistics of (field, value) together on the value counts. A value belongs to
  one field ("staging" is an environment); estimated apart, the environment filter's matches
  were guessed ten times too few, and its counts planned as a hash of every match.
"""

from django.db import migrations, models

VALUE_STATISTICS = "issue_value_field_value_stats"


def create_value_statistics(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {VALUE_STATISTICS} (mcv) ON field, value "
        "FROM issues_issuevaluecount"
    )
    schema_editor.execute("ANALYZE issues_issuevaluecount")


def drop_value_statistics(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {VALUE_STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0004_project_slug_and_issue_counter"),
        ("issues", "0013_element_weeks"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="issue",
            name="issues_issu_project_fe9f4a_idx",
        ),
        migrations.RemoveIndex(
            model_name="issue",
            name="issues_issu_project_8fe609_idx",
        ),
        migrations.RemoveIndex(
            model_name="issue",
            name="issues_issu_project_e1a06e_idx",
        ),
        migrations.RemoveIndex(
            model_name="issue",
            name="issues_issu_project_d1a57f_idx",
        ),
        migrations.RemoveIndex(
            model_name="issue",
            name="issue_first_seen_idx",
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                fields=["project", "is_visible", "-last_seen", "-id"], name="issue_last_seen_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                fields=["project", "is_visible", "-times_seen", "-last_seen", "-id"],
                name="issue_times_seen_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                fields=["project", "is_visible", "-users_seen", "-last_seen", "-id"],
                name="issue_users_seen_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                fields=["project", "is_visible", "-impact", "-last_seen", "-id"],
                name="issue_impact_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                fields=["project", "is_visible", "-first_seen", "-id"], name="issue_first_seen_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                condition=models.Q(("ignore_until__isnull", False), ("status", "ignored")),
                fields=["project", "ignore_until"],
                name="issue_ignored_until_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                condition=models.Q(("status", "unresolved"), _negated=True),
                fields=["project", "status"],
                name="issue_settled_status_idx",
            ),
        ),
        migrations.RunPython(create_value_statistics, drop_value_statistics),
    ]
