from django.core.management.base import BaseCommand
from django.utils import timezone

from replays.services import replay_purge_expired


class Command(BaseCommand):
    help = (
        "Delete replays older than their retention (REPLAY_RETENTION_DAYS when ingested), with "
        "their segments and recording files. Run it daily (cron, a Kubernetes CronJob)."
    )

    def handle(self, *args: object, **options: object) -> None:
        purged = replay_purge_expired(timezone.now())
        self.stdout.write(f"purged {purged.replays} replays ({purged.segments} segments)")
