"""``manage.py devstack`` started as a user starts it, in a process group of its own, on a SQLite
file and recordings directory of the test's own."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.conf import settings

from pipeline.broker import free_port
from tests.runtime_only import blocking_env
from tests.sdk_fixtures import SdkRequest


@dataclass
class Devstack:
    process: subprocess.Popen
    port: int
    broker_port: int
    banner: str
    database: Path
    env: dict[str, str]
    # Everything it printed so far, its children's lines included (kept up to date).
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        """Run another management command against this devstack's database."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def post(self, path: str, body: bytes, timeout_s: float = 30.0) -> requests.Response:
        """POST, retrying while the web server does not answer (a restarted one, say)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return requests.post(f"{self.base_url}{path}", data=body, timeout=10)
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def post_all(self, sdk_requests: Iterable[SdkRequest]) -> None:
        """POST captured SDK requests as the SDK sent them; each must be accepted."""
        for sdk_request in sdk_requests:
            response = self.post(sdk_request.path, sdk_request.body)
            assert response.status_code == 200, response.text

    def api(self) -> requests.Session:
        """A session of the admin's API token (``drf_create_token``)."""
        token = self.manage("drf_create_token", "admin").split()[2]
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        return session

    def issues(
        self, api: requests.Session, until: Callable[[list[dict]], bool], timeout_s: float = 60
    ) -> list[dict]:
        """Project 42's issues from the API, read again until ``until`` says they are all there
        (or the time is up: the caller's assertions then say what is missing)."""
        url = f"{self.base_url}/api/0/projects/42/issues/"
        issues: list[dict] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not until(issues):
            response = api.get(url, timeout=10)
            assert response.status_code == 200, response.text
            issues = response.json()["results"]
            time.sleep(0.2)
        return issues


def devstack_env(directory: Path) -> dict[str, str]:
    """The environment of a devstack of ``directory``'s own: its database, its recordings, a home
    directory of its own (``directory / "home"``, so a test sees what it writes there), and the
    dev extras made impossible to import (``tests/runtime_only.py``)."""
    (directory / "home").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.base",
        "DATABASE_URL": f"sqlite:///{directory / 'devstack.sqlite3'}",
        "RECORDINGS_ROOT": str(directory / "recordings"),
        "PYTHONUNBUFFERED": "1",
        "HOME": str(directory / "home"),
    }
    env.pop("XDG_RUNTIME_DIR", None)
    # As make run's virtualenv, which has the runtime dependencies only: no dev extra imports.
    return blocking_env(env, directory / "runtime-only")


def devstack_argv(port: int, broker_port: int, *args: str) -> list[str]:
    return [
        *(sys.executable, "manage.py", "devstack"),
        *("--port", str(port), "--broker-port", str(broker_port), "--workers", "1", *args),
    ]


@contextmanager
def running_devstack(directory: Path, *args: str) -> Iterator[Devstack]:
    """A devstack, once it says it is running (or has exited); ``args`` go to the command."""
    port, broker_port = free_port(), free_port()
    while broker_port == port:
        broker_port = free_port()
    database = directory / "devstack.sqlite3"
    env = devstack_env(directory)
    process = subprocess.Popen(
        devstack_argv(port, broker_port, *args),
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = []
    # It says it is running once the web server answers and both consumers hold their partitions.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode()
        output.append(line)
        if "Press Ctrl-C to stop" in line or process.poll() is not None:
            break
    # Keep reading what it prints, or its children block once the pipe's buffer is full.
    drain = threading.Thread(target=_drain, args=(process, output), daemon=True)
    drain.start()
    try:
        yield Devstack(process, port, broker_port, "".join(output), database, env, output)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def _drain(process: subprocess.Popen, output: list[str]) -> None:
    for line in iter(process.stdout.readline, b""):
        output.append(line.decode(errors="replace"))
