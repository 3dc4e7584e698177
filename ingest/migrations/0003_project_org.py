"""A project belongs to an Organization: the ``org_id`` column becomes a foreign key.

Each distinct ``org_id`` of the existing projects first becomes an organization of that id, so
every row has its organization before the constraint is added. The column keeps its name
(``org_id``) throughout: the field is altered in place, then renamed in the model state only.
"""

import django.db.models.deletion
from django.db import migrations, models


def organizations_for_existing_projects(apps, schema_editor) -> None:
    Organization = apps.get_model("organizations", "Organization")
    Project = apps.get_model("ingest", "Project")
    org_ids = Project.objects.values_list("org_id", flat=True).distinct().order_by("org_id")
    for org_id in org_ids:
        Organization.objects.get_or_create(
            id=org_id, defaults={"name": f"Organization {org_id}", "slug": f"org-{org_id}"}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0002_projectkey_rate_limit"),
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(organizations_for_existing_projects, migrations.RunPython.noop),
        # The same column, now a foreign key (db_column keeps it ``org_id``).
        migrations.AlterField(
            model_name="project",
            name="org_id",
            field=models.ForeignKey(
                db_column="org_id",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="projects",
                to="organizations.organization",
            ),
        ),
        # Renamed in the state only: a field ``org`` has the column ``org_id`` anyway.
        migrations.RenameField(model_name="project", old_name="org_id", new_name="org"),
        migrations.AlterField(
            model_name="project",
            name="org",
            field=models.ForeignKey(
                help_text="The organization that owns it; its members see the project's issues.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="projects",
                to="organizations.organization",
                verbose_name="organization",
            ),
        ),
    ]
