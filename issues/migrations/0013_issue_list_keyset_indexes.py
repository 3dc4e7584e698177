"""The issue list's sort indexes gain their tie-breaking columns, down to the id, so that a page
after a cursor is one range of an index whatever the ties (a sort by impact or times seen has
thousands of equal values; issue 23), and the few issues ignored until a time get a partial
index, read before every list. Indexes only: no row changes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0004_project_slug_and_issue_counter"),
        ("issues", "0012_filter_value_first_seen"),
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
    ]
