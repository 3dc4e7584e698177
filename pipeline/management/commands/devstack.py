import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from ingest.models import Project, ProjectKey
from organizations.models import Organization
from pipeline.broker import EmbeddedBroker
from pipeline.devstack import Supervisor
from pipeline.topics import ensure_topics

DEMO_ORG_ID = 1
DEMO_PROJECT_ID = 42
# The key that the captured SDK fixtures were sent with: they replay against the demo project.
DEMO_PUBLIC_KEY = "0123456789abcdef0123456789abcdef"


class Command(BaseCommand):
    help = (
        "Run the whole pipeline on embedded defaults: broker, web server, consumers "
        "(Ctrl-C stops all)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Web server port.")
        parser.add_argument("--broker-port", type=int, default=9092, help="Embedded broker port.")
        parser.add_argument("--workers", type=int, default=2, help="Web server worker processes.")

    def handle(self, *args: object, **options: object) -> None:
        port, broker_port = int(options["port"]), int(options["broker_port"])
        base_url = f"http://127.0.0.1:{port}"
        broker = EmbeddedBroker(broker_port, log_path=settings.VAR_DIR / "broker.log")
        settings.KAFKA_BOOTSTRAP_SERVERS = broker.bootstrap_servers
        settings.PUBLIC_BASE_URL = base_url
        settings.VAR_DIR.mkdir(exist_ok=True)

        call_command("migrate", interactive=False, verbosity=0)
        admin_user, admin_password = self.ensure_admin()
        key = self.ensure_demo_project(admin_user)

        broker.start()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "PUBLIC_BASE_URL": base_url,
            "PYTHONUNBUFFERED": "1",
            # One multi-process metrics directory for every child: /metrics adds them all up.
            "PROMETHEUS_MULTIPROC_DIR": str(self.fresh_metrics_dir()),
        }
        supervisor = Supervisor(env)
        code = 1
        try:
            ensure_topics()
            supervisor.start(
                "web",
                [
                    *(sys.executable, "-m", "gunicorn", "settings.wsgi:application"),
                    *("--config", "python:settings.gunicorn", "--graceful-timeout", "5"),
                    *("--bind", f"127.0.0.1:{port}", "--workers", str(options["workers"])),
                ],
            )
            manage = (sys.executable, str(settings.BASE_DIR / "manage.py"))
            supervisor.start("recordings", [*manage, "consume_recordings"])
            supervisor.start("occurrences", [*manage, "consume_occurrences"])
            self.print_banner(base_url, admin_user, admin_password, key)
            code = supervisor.wait()
        finally:
            supervisor.stop_all()
            broker.stop()
            self.stdout.write("devstack stopped")
        sys.exit(code)

    def fresh_metrics_dir(self) -> Path:
        """An empty metrics directory of this run's own (files of other runs would count)."""
        directory = Path(tempfile.mkdtemp(prefix="replay-issues-metrics-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        return directory

    def ensure_admin(self) -> tuple[str, str]:
        username = os.environ.get("DEVSTACK_ADMIN_USER", "admin")
        password = os.environ.get("DEVSTACK_ADMIN_PASSWORD", "admin")
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username, f"{username}@localhost", password)
        return username, password

    def ensure_demo_project(self, member: str) -> ProjectKey:
        """The demo project, in the demo organization, of which ``member`` is a member (as a
        superuser the admin sees every organization anyway; the membership shows the model)."""
        organization, _ = Organization.objects.get_or_create(
            id=DEMO_ORG_ID, defaults={"name": "Demo", "slug": "demo"}
        )
        organization.members.add(get_user_model().objects.get(username=member))
        project, _ = Project.objects.get_or_create(
            id=DEMO_PROJECT_ID, defaults={"name": "demo", "org": organization}
        )
        key, _ = ProjectKey.objects.get_or_create(
            public_key=DEMO_PUBLIC_KEY, defaults={"project": project, "label": "Demo"}
        )
        return key

    def print_banner(self, base_url: str, user: str, password: str, key: ProjectKey) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                "\nreplay-issues is running\n"
                f"  web:    {base_url}/  (issues; API at {base_url}/api/docs/)\n"
                f"  admin:  {base_url}/admin/  (login {user} / {password})\n"
                f"  DSN:    {key.dsn(base_url)}\n"
                f"  broker: {settings.KAFKA_BOOTSTRAP_SERVERS}\n"
                "Paste the DSN into Sentry.init({dsn, integrations: [Sentry.replayIntegration()]})."
                "\nPress Ctrl-C to stop.\n"
            )
        )
