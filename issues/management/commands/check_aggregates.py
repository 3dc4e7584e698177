from django.core.management.base import BaseCommand, CommandError

from ingest.models import Project
from issues.aggregates import aggregates_check

SHOWN_DIFFERENCES = 50


class Command(BaseCommand):
    help = (
        "Recompute the aggregates that the pages read (daily counts, breakdowns, filter values, "
        "status counts, element rows) from the occurrences and report every difference; exit "
        "status 1 when one is found. --fix replaces the rows that differ (then exit status 0)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", type=int, help="Only this project (default: all).")
        parser.add_argument("--fix", action="store_true", help="Replace the rows that differ.")

    def handle(self, *args: object, **options) -> None:
        if options["project"] is not None:
            if not Project.objects.filter(pk=options["project"]).exists():
                raise CommandError(f"no project {options['project']}")
            project_ids = [options["project"]]
        else:
            project_ids = list(Project.objects.order_by("pk").values_list("pk", flat=True))
        total = 0
        for project_id in project_ids:
            lines = aggregates_check(project_id, fix=options["fix"])
            total += len(lines)
            for line in lines[:SHOWN_DIFFERENCES]:
                self.stdout.write(f"project {project_id}: {line}")
            if len(lines) > SHOWN_DIFFERENCES:
                self.stdout.write(
                    f"project {project_id}: ... and {len(lines) - SHOWN_DIFFERENCES} more"
                )
        if total and options["fix"]:
            self.stdout.write(f"{total} differences fixed")
        elif total:
            raise CommandError(f"{total} differences; run with --fix to replace them")
        else:
            self.stdout.write(
                f"aggregates of {len(project_ids)} projects agree with the occurrences"
            )
