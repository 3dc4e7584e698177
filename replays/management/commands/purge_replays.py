from django.core.management.base import BaseCommand
from django.utils import timezone

from replay_errors.services import replay_error_events_purge_expired
from replays.services import replay_purge_expired


class Command(BaseCommand):
    help = (
        "Delete replays older than their retention (REPLAY_RETENTION_DAYS when ingested), with "
        "their segments and recording files, and error events as old. Run it daily (cron, a "
        "Kubernetes CronJob)."
    )

    def handle(self, *args: object, **options: object) -> None:
        now = timezone.now()
        purged = replay_purge_expired(now)
        errors = replay_error_events_purge_expired(now)
        self.stdout.write(f"purged {purged.replays} replays ({purged.segments} segments)")
        self.stdout.write(f"purged {errors} error events")
