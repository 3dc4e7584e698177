"""Apache Kafka from its Maven Central jars, run with the machine's Java: the production engine on
a machine without Docker, for ``make kafka-up`` and the test suite's Kafka pass.

``deploy/kafka/pom.xml`` pins the version (docker-compose.yml's ``apache/kafka`` image's); on first
use ``mvn -q dependency:copy-dependencies`` puts the broker and what it needs into
``deploy/kafka/target/libs`` (git-ignored). A node is one process, broker and controller at once
(KRaft): its ``server.properties`` is ``deploy/kafka/server.properties`` plus the node's own lines,
its storage is formatted once with a cluster id (``kafka.tools.StorageTool format``), and it logs
to ``server.log`` in its data directory (``deploy/kafka/log4j2.properties``). A restarted node
keeps its log directory, and so everything it acknowledged.

No Django here: ``python -m pipeline.apache_kafka up|down`` runs before any settings exist.

    python -m pipeline.apache_kafka up [--port 9093] [--controller-port 9094] [--dir var/kafka]
    python -m pipeline.apache_kafka down [--dir var/kafka]
"""

import argparse
import base64
import contextlib
import fcntl
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from pipeline.broker import port_is_open
from pipeline.children import preexec_die_with_parent

KAFKA_DIR = Path(__file__).resolve().parent.parent / "deploy" / "kafka"
LIBS_DIR = KAFKA_DIR / "target" / "libs"
# A small heap: a development node or a test run holds little, and the machine is shared with the
# web server, the consumers and the database. KAFKA_HEAP_OPTS overrides it, as in Kafka's scripts.
DEFAULT_HEAP_OPTS = "-Xmx512m -Xms256m"
# Kafka's own scripts' JVM settings (kafka-run-class.sh).
JVM_OPTS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
LOG_TAIL_LINES = 30


def kafka_version() -> str:
    """The Apache Kafka version that ``deploy/kafka/pom.xml`` pins."""
    match = re.search(
        r"<kafka\.version>([^<]+)</kafka\.version>", (KAFKA_DIR / "pom.xml").read_text()
    )
    if match is None:
        raise RuntimeError(f"{KAFKA_DIR / 'pom.xml'} names no <kafka.version>")
    return match.group(1)


def ensure_libs(libs_dir: Path = LIBS_DIR) -> Path:
    """The directory of the broker's jars, fetched from Maven Central by Maven on first use (and
    again when the pinned version changes). One fetch at a time: concurrent callers wait."""
    version = kafka_version()
    marker = libs_dir / f"kafka_2.13-{version}.jar"
    if marker.is_file():
        return libs_dir
    libs_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(libs_dir.parent / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():
            return libs_dir
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError(
                "Apache Kafka's jars are fetched with Maven, which is not installed: "
                "apt-get install maven (and a Java 17+ runtime: openjdk-17-jre-headless)"
            )
        shutil.rmtree(libs_dir, ignore_errors=True)  # another version's jars
        print(f"apache-kafka: fetching Apache Kafka {version} with Maven", file=sys.stderr)
        result = subprocess.run(
            [mvn, "-q", "-B", "-f", str(KAFKA_DIR / "pom.xml"), "dependency:copy-dependencies"],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not marker.is_file():
            raise RuntimeError(
                f"mvn dependency:copy-dependencies failed (exit {result.returncode}):\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
    return libs_dir


def java_binary() -> str:
    """``$JAVA_HOME/bin/java`` when set, else ``java`` on PATH (Kafka 4 needs Java 17+)."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not candidate or not os.access(candidate, os.X_OK):
        raise RuntimeError(
            "Apache Kafka needs Java 17 or later, and none was found (JAVA_HOME or java on PATH): "
            "apt-get install openjdk-17-jre-headless"
        )
    return candidate


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, base64url without padding (as ``random-uuid``), and
    never one that starts with ``-``, as Kafka's own ``Uuid.randomUuid`` draws again: one in 64
    did, and ``kafka-storage format -t -…`` reads it as an option ("expected one argument")."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaNode:
    """One Apache Kafka process, broker and controller, listening on 127.0.0.1:``port`` (clients)
    and 127.0.0.1:``controller_port`` (the KRaft quorum), with its data in ``data_dir``.

    ``voters`` is the controller quorum (``id@host:port,...``), by default this node alone;
    ``overrides`` are further broker settings (``min.insync.replicas`` for a cluster, say);
    ``heap_opts`` the JVM's heap flags (else ``KAFKA_HEAP_OPTS``, else ``DEFAULT_HEAP_OPTS``)."""

    # What its clients are configured with (environment variables that settings read), as
    # ``EmbeddedBroker.client_env`` is Tansu's: idempotent producers (Kafka keeps their ids in its
    # log across restarts) and no offset-gap guard (pipeline/offset_gaps.py is for Tansu).
    client_env = {"KAFKA_PRODUCER_IDEMPOTENCE": "true", "KAFKA_OFFSET_GAP_WAIT_S": "0"}

    def __init__(
        self,
        port: int,
        controller_port: int,
        data_dir: Path,
        node_id: int = 1,
        voters: str | None = None,
        overrides: dict[str, str] | None = None,
        heap_opts: str | None = None,
    ) -> None:
        self.port = port
        self.controller_port = controller_port
        self.data_dir = Path(data_dir).resolve()
        self.node_id = node_id
        self.voters = voters or f"{node_id}@127.0.0.1:{controller_port}"
        self.overrides = overrides or {}
        self.heap_opts = heap_opts
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Kafka's own log (``deploy/kafka/log4j2.properties``)."""
        return self.data_dir / "server.log"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "kafka.pid"

    def properties(self) -> str:
        node = {
            "node.id": str(self.node_id),
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.quorum.voters": self.voters,
            "log.dirs": str(self.data_dir / "logs"),
            **self.overrides,
        }
        own = "\n".join(f"{key}={value}" for key, value in node.items())
        return f"{(KAFKA_DIR / 'server.properties').read_text()}\n# This node's own\n{own}\n"

    def java_command(self, main_class: str, *args: str) -> list[str]:
        heap = shlex.split(self.heap_opts or os.environ.get("KAFKA_HEAP_OPTS", DEFAULT_HEAP_OPTS))
        return [
            java_binary(),
            *heap,
            *JVM_OPTS,
            f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.data_dir}",
            "-cp",
            f"{ensure_libs()}/*",
            main_class,
            *args,
        ]

    def prepare(self, cluster_id: str | None = None) -> None:
        """Write the node's ``server.properties`` and format its storage once (a node that was
        formatted keeps its cluster id and data)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        config.write_text(self.properties())
        if (self.data_dir / "logs" / "meta.properties").is_file():
            return
        result = subprocess.run(
            self.java_command(
                "kafka.tools.StorageTool",
                *("format", "--ignore-formatted", "-c", str(config)),
                f"--cluster-id={cluster_id or new_cluster_id()}",
            ),
            capture_output=True,
            text=True,
            env={**os.environ, "KAFKA_HEAP_OPTS": "-Xmx256m"},
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"formatting Apache Kafka's storage in {self.data_dir / 'logs'} failed "
                f"(exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )

    def start(
        self, timeout_s: float = 60.0, cluster_id: str | None = None, detached: bool = False
    ) -> None:
        """Start the node and wait until it answers clients (at most ``timeout_s``). ``detached``:
        it outlives this process (``make kafka-up``); else it dies with it."""
        self.launch(cluster_id, detached)
        try:
            self.wait_until_ready(timeout_s)
        except BaseException:
            self.kill()
            raise

    def launch(self, cluster_id: str | None = None, detached: bool = False) -> None:
        """Start the process without waiting for it: the nodes of a cluster are launched together,
        since none is ready before a majority of the controller quorum runs."""
        for number in (self.port, self.controller_port):
            if port_is_open(number):
                raise RuntimeError(
                    f"port {number} is already in use: stop what listens there or pick another"
                )
        self.prepare(cluster_id)
        with open(self.data_dir / "kafka.out", "ab") as console:
            self.process = subprocess.Popen(
                self.java_command("kafka.Kafka", str(self.data_dir / "server.properties")),
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=None if detached else preexec_die_with_parent(),
            )
        self.pid_path.write_text(str(self.process.pid))

    def wait_until_ready(self, timeout_s: float) -> None:
        """Until the node answers a metadata request listing itself, with a leader for every
        partition it has (a restarted node recovers its logs first); a clear error (with its last
        log lines) when it exits or does not get there within ``timeout_s``."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 0})
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"Apache Kafka exited at start with code {self.process.returncode}. "
                    f"{self.last_lines()}"
                )
            with contextlib.suppress(KafkaException):
                metadata = admin.list_topics(timeout=1)
                if self.node_id in metadata.brokers and all(
                    partition.error is None and partition.leader >= 0
                    for topic in metadata.topics.values()
                    for partition in topic.partitions.values()
                ):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Apache Kafka did not answer on {self.bootstrap_servers} within "
                    f"{timeout_s:g} s. {self.last_lines()}"
                )
            time.sleep(0.2)

    def last_lines(self) -> str:
        for path in (self.log_path, self.data_dir / "kafka.out"):
            if path.is_file() and path.stat().st_size:
                lines = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                return f"The last lines of {path}:\n" + "\n".join(lines)
        return f"It wrote nothing to {self.log_path}."

    def stop(self, timeout_s: float = 30.0) -> None:
        """A clean shutdown (SIGTERM: the node flushes and closes its logs), SIGKILL after
        ``timeout_s``."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stopped()

    def kill(self) -> None:
        """Stop it at once (SIGKILL), as a crash would: what it acknowledged is in its log
        directory; the next start recovers the log's unflushed tail."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self._stopped()

    def _stopped(self) -> None:
        self.process = None
        self.pid_path.unlink(missing_ok=True)
        deadline = time.monotonic() + 5
        while port_is_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)


# What a cluster changes from a single node's server.properties: its internal topics (offsets,
# transactions) replicated three times and written to two at least, as the pipeline's topics are
# by default, so a produce with acks=all is acknowledged by two brokers or not at all; and a lost
# broker noticed within seconds instead of Kafka's defaults (fenced after 9 s, out of the in-sync
# replicas after 30 s), the time during which writes to its partitions wait.
CLUSTER_OVERRIDES = {
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
    "offsets.topic.replication.factor": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    "share.coordinator.state.topic.replication.factor": "3",
    "share.coordinator.state.topic.min.isr": "2",
    "broker.heartbeat.interval.ms": "500",
    "broker.session.timeout.ms": "3000",
    "replica.lag.time.max.ms": "5000",
}


def cluster_nodes(
    ports: list[tuple[int, int]],
    data_dir: Path,
    overrides: dict[str, str] | None = None,
    heap_opts: str | None = None,
) -> list[KafkaNode]:
    """The nodes of one KRaft cluster on loopback, one per (client port, controller port): node
    ids from 1, each a broker and a voter of the controller quorum, data in ``data_dir/node-N``."""
    voters = ",".join(f"{i}@127.0.0.1:{controller}" for i, (_, controller) in enumerate(ports, 1))
    return [
        KafkaNode(
            port,
            controller,
            Path(data_dir) / f"node-{i}",
            node_id=i,
            voters=voters,
            overrides={**CLUSTER_OVERRIDES, **(overrides or {})},
            heap_opts=heap_opts,
        )
        for i, (port, controller) in enumerate(ports, 1)
    ]


class KafkaCluster:
    """Nodes of one cluster (``cluster_nodes``), formatted with one cluster id, started together;
    each can be killed and started again on its ports and log directory."""

    def __init__(self, nodes: list[KafkaNode]) -> None:
        self.nodes = nodes
        self.cluster_id = new_cluster_id()

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def node(self, node_id: int) -> KafkaNode:
        (node,) = (node for node in self.nodes if node.node_id == node_id)
        return node

    def start(self, timeout_s: float = 180.0) -> None:
        """Launch every node, then wait until each answers (a node is ready only once a majority
        of the quorum runs)."""
        try:
            # Formatting runs a JVM per node: side by side, not one after another.
            with ThreadPoolExecutor(len(self.nodes)) as pool:
                list(pool.map(lambda node: node.prepare(self.cluster_id), self.nodes))
            for node in self.nodes:
                node.launch(self.cluster_id)
            deadline = time.monotonic() + timeout_s
            for node in self.nodes:
                node.wait_until_ready(max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise

    def restart(self, node: KafkaNode, timeout_s: float = 120.0) -> None:
        node.start(timeout_s=timeout_s, cluster_id=self.cluster_id)

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()

    def in_sync(self, node_id: int, topics: list[str]) -> bool:
        """``node_id`` is an in-sync replica of every partition of ``topics`` (a restarted broker
        has caught up with what was written while it was away)."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 0})
        try:
            metadata = admin.list_topics(timeout=5)
        except KafkaException:
            return False
        return all(
            topic in metadata.topics
            and all(
                node_id in partition.isrs
                for partition in metadata.topics[topic].partitions.values()
            )
            for topic in topics
        )


# --- make kafka-up / kafka-down -----------------------------------------------------------------


@contextlib.contextmanager
def _exit_on_error() -> Iterator[None]:
    try:
        yield
    except RuntimeError as error:
        print(f"apache-kafka: {error}", file=sys.stderr)
        sys.exit(1)


def running_pid(pid_path: Path) -> int | None:
    """The pid in ``pid_path`` when that process is still an Apache Kafka broker."""
    try:
        pid = int(pid_path.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"kafka.Kafka" in cmdline else None


def up(args: argparse.Namespace) -> None:
    node = KafkaNode(args.port, args.controller_port, args.dir)
    pid = running_pid(node.pid_path)
    if pid is not None:
        print(f"apache-kafka: already running (pid {pid}) on {node.bootstrap_servers}")
        return
    started = time.monotonic()
    with _exit_on_error():
        node.start(timeout_s=args.timeout, detached=True)
    print(
        f"apache-kafka: Apache Kafka {kafka_version()} is running on {node.bootstrap_servers} "
        f"(controller 127.0.0.1:{args.controller_port}, pid {node.process.pid}, ready in "
        f"{time.monotonic() - started:.1f} s); data and server.log in {node.data_dir}"
    )


def down(args: argparse.Namespace) -> None:
    pid_path = Path(args.dir) / "kafka.pid"
    pid = running_pid(pid_path)
    if pid is None:
        print("apache-kafka: not running")
        pid_path.unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)
        print(f"apache-kafka: it did not stop within {args.timeout:g} s: killed")
    pid_path.unlink(missing_ok=True)
    print(f"apache-kafka: stopped (pid {pid})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.apache_kafka", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start a single node in the background")
    start.add_argument("--port", type=int, default=9093, help="the clients' port")
    start.add_argument("--controller-port", type=int, default=9094, help="the KRaft port")
    start.add_argument("--dir", type=Path, default=Path("var/kafka"), help="its data")
    start.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for it")
    start.set_defaults(handler=up)
    stop = commands.add_parser("down", help="stop the node that 'up' started")
    stop.add_argument("--dir", type=Path, default=Path("var/kafka"), help="its data")
    stop.add_argument("--timeout", type=float, default=30.0, help="seconds before SIGKILL")
    stop.set_defaults(handler=down)
    args = parser.parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
