"""Indexes that make the issue list's search and value filters cost by the issues they match,
not by every issue of the project (issue 23).

- The list's first seen sort: an index, as its other sorts have.
- The environment/release/browser filter reads ``IssueValueCount`` by (field, value, issue):
  an index range joined to the list (both databases).
- The search (``issues.filters.IssueFilter._words_q``: ``icontains`` over six columns, which
  Django writes as ``UPPER(column::text) LIKE UPPER('%word%')``) gets, on PostgreSQL only, a
  pg_trgm GIN index on each of those six expressions, written exactly as Django writes them so
  that the planner combines them in one BitmapOr. pg_trgm is a trusted extension (PostgreSQL
  13+): the database's owner may create it. SQLite has no such index and keeps its scan.
"""

from django.db import migrations, models

# (index name, the indexed expression as Django's icontains writes it)
SEARCH_INDEXES = [
    ("issue_search_selector_trgm", 'UPPER("selector"::text)'),
    ("issue_search_culprit_trgm", 'UPPER("culprit"::text)'),
    ("issue_search_title_trgm", 'UPPER("title"::text)'),
    ("issue_search_url_trgm", "UPPER((\"metadata\" ->> 'url')::text)"),
    ("issue_search_route_trgm", "UPPER((\"metadata\" ->> 'route')::text)"),
    ("issue_search_component_trgm", "UPPER((\"metadata\" ->> 'component')::text)"),
]


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in SEARCH_INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "issues_issue" '
            f"USING gin (({expression}) gin_trgm_ops)"
        )


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in SEARCH_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("issues", "0010_element_counts_backfill")]

    operations = [
        migrations.AddIndex(
            model_name="issuevaluecount",
            index=models.Index(
                condition=models.Q(("times__gt", 0)),
                fields=["field", "value", "issue"],
                name="issue_value_filter_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(
                fields=["project", "is_visible", "-first_seen"], name="issue_first_seen_idx"
            ),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
