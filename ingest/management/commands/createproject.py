from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from ingest.auth import PUBLIC_KEY
from ingest.models import Project, ProjectKey
from organizations.services import organization_ensure


class Command(BaseCommand):
    help = "Create a project with a public key, or update it to match (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", type=int, required=True, help="The project id in the DSN.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--public-key", required=True, help="32 lower-case hex digits.")
        parser.add_argument(
            "--org-id",
            type=int,
            default=1,
            help="The organization that owns it (created if missing; name it in the admin).",
        )

    def handle(self, *args: object, **options: object) -> None:
        public_key = str(options["public_key"])
        if not PUBLIC_KEY.match(public_key):
            raise CommandError("--public-key must be 32 lower-case hex digits")
        if int(options["org_id"]) < 1:
            raise CommandError("--org-id must be a positive number")
        with transaction.atomic():
            organization = organization_ensure(int(options["org_id"]))
            project, created = Project.objects.update_or_create(
                id=options["id"], defaults={"name": options["name"], "org": organization}
            )
            key = ProjectKey.objects.filter(public_key=public_key).first()
            if key is not None and key.project_id != project.id:
                raise CommandError(f"key {public_key} already belongs to project {key.project_id}")
            if key is None:
                key = ProjectKey.objects.create(project=project, public_key=public_key)
            elif not key.is_active:
                key.is_active = True
                key.save(update_fields=["is_active"])
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} project {project.id} ({project.name}); DSN: {key.dsn()}")
