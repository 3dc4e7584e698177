import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from confluent_kafka import KafkaException
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingest.models import Project, ProjectKey
from organizations.models import Organization
from pipeline.broker import EmbeddedBroker, port_is_free
from pipeline.consumer_command import PARTITIONS_HELD
from pipeline.devstack import Supervisor
from pipeline.topics import ensure_topics

DEMO_ORG_ID = 1
DEMO_PROJECT_ID = 42
# The key that the captured SDK fixtures were sent with: they replay against the demo project.
DEMO_PUBLIC_KEY = "0123456789abcdef0123456789abcdef"
# What a consumer prints once it holds partitions (pipeline.consumer_command), at any log level.
PARTITIONS_ASSIGNED = f"{PARTITIONS_HELD} "


class Command(BaseCommand):
    help = (
        "Run the whole pipeline on embedded defaults: broker, web server, consumers "
        "(Ctrl-C stops all); --kafka HOST:PORT runs it on that broker instead of the embedded one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Web server port.")
        parser.add_argument("--broker-port", type=int, default=9092, help="Embedded broker port.")
        parser.add_argument(
            "--kafka",
            metavar="HOST:PORT",
            help="Use this Kafka broker (its bootstrap servers; make kafka-up starts Apache Kafka "
            "on 127.0.0.1:9093) instead of starting the embedded one; the topics are created "
            "there.",
        )
        parser.add_argument("--workers", type=int, default=2, help="Web server worker processes.")
        parser.add_argument(
            "--ready-timeout",
            type=float,
            default=90.0,
            help="Seconds to wait for the web server to answer and the consumers to hold their "
            "partitions before giving up.",
        )

    def handle(self, *args: object, **options: object) -> None:
        port, broker_port = int(options["port"]), int(options["broker_port"])
        external = options["kafka"]
        self.check_ports(port, None if external else broker_port)
        base_url = f"http://127.0.0.1:{port}"
        settings.VAR_DIR.mkdir(exist_ok=True)
        broker = None
        if external:
            settings.KAFKA_BOOTSTRAP_SERVERS = external
            self.create_topics_on(external)
        else:
            broker = EmbeddedBroker(broker_port, log_path=settings.VAR_DIR / "broker.log")
            settings.KAFKA_BOOTSTRAP_SERVERS = broker.bootstrap_servers
        settings.PUBLIC_BASE_URL = base_url

        call_command("migrate", interactive=False, verbosity=0)
        admin_user, admin_password = self.ensure_admin()
        key = self.ensure_demo_project(admin_user)

        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": settings.KAFKA_BOOTSTRAP_SERVERS,
            "PUBLIC_BASE_URL": base_url,
            "PYTHONUNBUFFERED": "1",
            # One multi-process metrics directory for every child: /metrics adds them all up.
            "PROMETHEUS_MULTIPROC_DIR": str(self.fresh_metrics_dir()),
        }
        if broker is not None:
            env.update(broker.client_env)
        # Alert webhooks to receivers on this machine (a private address is refused by default).
        env.setdefault("ALERTS_ALLOW_PRIVATE_ADDRESSES", "true")
        if external:
            # The offset-gap guard (pipeline/offset_gaps.py) is for the embedded broker's late
            # records; Apache Kafka has none. An explicit KAFKA_OFFSET_GAP_WAIT_S still wins.
            env.setdefault("KAFKA_OFFSET_GAP_WAIT_S", "0")
        supervisor = Supervisor(env)
        supervisor.handle_signals()
        code = 1
        try:
            if broker is not None:
                supervisor.start_process(
                    "broker",
                    lambda: self.start_broker(broker),
                    output_hint=f"its log is {broker.log_path}",
                    stop=lambda _process: broker.stop(),
                )
            supervisor.start(
                "web",
                [
                    *(sys.executable, "-m", "gunicorn", "settings.wsgi:application"),
                    *("--config", "python:settings.gunicorn", "--graceful-timeout", "5"),
                    *("--bind", f"127.0.0.1:{port}", "--workers", str(options["workers"])),
                ],
            )
            manage = (sys.executable, str(settings.BASE_DIR / "manage.py"))
            for name, command in (
                ("recordings", "consume_recordings"),
                ("occurrences", "consume_occurrences"),
                ("errors", "consume_replay_events"),
            ):
                supervisor.start(name, [*manage, command], ready_marker=PARTITIONS_ASSIGNED)
            supervisor.start("alerts", [*manage, "deliver_alerts"])
            supervisor.start("previews", [*manage, "run_previews"])
            problem = supervisor.wait_until_ready(
                float(options["ready_timeout"]), {"web": lambda: answers(f"{base_url}/healthz")}
            )
            if problem is None:
                self.print_banner(base_url, admin_user, admin_password, key)
                code = supervisor.wait()
            elif supervisor.stop_requested.is_set():
                code = 0
            else:
                self.stderr.write(problem)
        finally:
            supervisor.stop_all()
            if broker is not None:
                broker.stop()
            self.stdout.write("devstack stopped")
        sys.exit(code)

    def check_ports(self, port: int, broker_port: int | None) -> None:
        """Refuse to start anything when a port is taken (the broker would fail half-way);
        ``broker_port`` None: no embedded broker."""
        if port == broker_port:
            raise CommandError(f"the web server and the broker cannot share port {port}")
        ports = [("web server", port, "PORT")]
        if broker_port is not None:
            ports.append(("broker", broker_port, "BROKER_PORT"))
        for what, number, make_variable in ports:
            if not port_is_free(number):
                raise CommandError(
                    f"port {number} (the {what}'s) is already in use on 127.0.0.1: stop what "
                    f"listens there, or pick another port (make run {make_variable}=N, or "
                    f"manage.py devstack --{'port' if what == 'web server' else 'broker-port'} N)"
                )

    def create_topics_on(self, bootstrap_servers: str) -> None:
        """The pipeline's topics on an external broker (idempotent), or a clear error when it
        does not answer."""
        try:
            created = ensure_topics(timeout_s=30)
        except (KafkaException, FutureTimeout) as error:
            raise CommandError(
                f"the Kafka broker at {bootstrap_servers} did not create the topics ({error}): "
                "is it running? (make kafka-up starts Apache Kafka on 127.0.0.1:9093)"
            ) from error
        for name in created:
            self.stdout.write(f"devstack: created topic {name} on {bootstrap_servers}")

    def start_broker(self, broker: EmbeddedBroker) -> subprocess.Popen[bytes]:
        """The broker (memory storage: empty at each start) and the pipeline's topics on it."""
        broker.start()
        ensure_topics()
        return broker.process

    def fresh_metrics_dir(self) -> Path:
        """An empty metrics directory of this run's own (files of other runs would count)."""
        directory = Path(tempfile.mkdtemp(prefix="metrics-", dir=settings.VAR_DIR))
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


def answers(url: str) -> bool:
    """``url`` answers 200 (the web server is up)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False
