"""``manage.py devstack`` as a user runs it: it serves the endpoint, and Ctrl-C stops everything."""

import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from pipeline.broker import free_port, port_is_free
from tests.devstack import devstack_argv, devstack_env, running_devstack
from tests.sdk_fixtures import replay_requests


@pytest.fixture
def devstack(tmp_path):
    with running_devstack(tmp_path) as stack:
        yield stack.process, stack.port, stack.broker_port, stack.banner, stack.database


def running(pattern: str) -> bool:
    return bool(subprocess.run(["pgrep", "-f", pattern], capture_output=True).stdout)


def consumer_pids(devstack_pid: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(devstack_pid), "-f", "manage.py consume_"], capture_output=True
    )
    return [int(pid) for pid in found.stdout.split()]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def stored_segments(database: Path) -> int:
    try:
        with sqlite3.connect(database) as connection:
            return connection.execute("SELECT count(*) FROM replays_replaysegment").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_devstack_serves_the_endpoint_and_stops_on_ctrl_c(devstack, tmp_path):
    process, port, broker_port, banner, database = devstack
    assert process.poll() is None, banner
    assert "/admin/" in banner
    assert "login admin / admin" in banner
    assert f"@127.0.0.1:{port}/42" in banner
    # It says it is running only once the web server answers and each consumer holds partitions.
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    before_banner = banner.split("replay-issues is running")[0]
    for consumer in ("recordings", "occurrences"):
        assert f"{consumer} | " in before_banner
        assert any(
            line.startswith(f"{consumer} | ") and "partitions held: " in line
            for line in before_banner.splitlines()
        ), banner

    sdk_request = replay_requests()[0]
    response = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            response = requests.post(
                f"http://127.0.0.1:{port}{sdk_request.path}", data=sdk_request.body, timeout=10
            )
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    assert response is not None, "the web server never answered"
    assert response.status_code == 200, response.text

    # Served as deployed (gunicorn): a chunked body, with no Content-Length, is read whole.
    chunks = (sdk_request.body[i : i + 500] for i in range(0, len(sdk_request.body), 500))
    chunked = requests.post(f"http://127.0.0.1:{port}{sdk_request.path}", data=chunks, timeout=10)
    assert chunked.status_code == 200, chunked.text

    # Its consumer turns every segment into a stored replay segment.
    for sdk_request in replay_requests()[1:]:
        url = f"http://127.0.0.1:{port}{sdk_request.path}"
        assert requests.post(url, data=sdk_request.body, timeout=10).status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and stored_segments(database) < len(replay_requests()):
        time.sleep(0.2)
    assert stored_segments(database) == len(replay_requests())
    consumers = consumer_pids(process.pid)
    assert len(consumers) == 3  # consume_recordings, consume_occurrences, consume_replay_events

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    children = (f"127.0.0.1:{port}", f"127.0.0.1:{broker_port}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(running(c) for c in children):
        time.sleep(0.2)
    assert not any(running(c) for c in children), "a child of devstack outlived it"
    assert not any(alive(pid) for pid in consumers), "the consumer outlived devstack"
    # Nothing was written to the home directory (the broker binary and gunicorn's control socket
    # used to land in ~/.calfkit and ~/.gunicorn).
    assert sorted(path.name for path in (tmp_path / "home").iterdir()) == []


def test_a_killed_devstack_leaves_no_child_running(devstack):
    process, port, broker_port, banner, _ = devstack
    assert process.poll() is None, banner
    children = (f"127.0.0.1:{port}", f"127.0.0.1:{broker_port}")
    assert all(running(c) for c in children)
    consumers = consumer_pids(process.pid)
    assert len(consumers) == 3  # consume_recordings, consume_occurrences, consume_replay_events

    process.kill()
    process.wait(timeout=10)
    # Each child gets SIGTERM when devstack dies and stops on its own time (a consumer finishes
    # its work in hand first): all of them within the deadline, in any order.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (
        any(running(c) for c in children) or any(alive(pid) for pid in consumers)
    ):
        time.sleep(0.2)
    assert not any(running(c) for c in children), "a child of devstack outlived it"
    assert not any(alive(pid) for pid in consumers), "the consumer outlived devstack"


def test_a_consumer_that_dies_is_restarted_and_its_work_gets_done(tmp_path):
    with running_devstack(tmp_path) as stack:
        assert stack.process.poll() is None, stack.banner
        consumers = consumer_pids(stack.process.pid)
        recordings = next(pid for pid in consumers if "consume_recordings" in cmdline(pid))
        os.kill(recordings, signal.SIGKILL)

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "starting recordings again" not in stack.output():
            time.sleep(0.2)
        output = stack.output()
        assert "devstack: recordings was killed by SIGKILL at " in output, output
        assert "; restarting it in 1 s" in output, output
        assert "devstack: starting recordings again" in output, output
        assert stack.process.poll() is None, output
        # The line comes just before the fork; the child shows its own command line once it has
        # exec'd, a moment later on a loaded machine.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(consumer_pids(stack.process.pid)) < 3:
            time.sleep(0.1)
        restarted = consumer_pids(stack.process.pid)
        assert len(restarted) == 3, stack.output()
        assert recordings not in restarted

        # The new consumer takes the partitions over and stores every segment.
        for sdk_request in replay_requests():
            assert stack.post(sdk_request.path, sdk_request.body).status_code == 200
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and stored_segments(stack.database) < len(
            replay_requests()
        ):
            time.sleep(0.2)
        assert stored_segments(stack.database) == len(replay_requests()), stack.output()

        # SIGTERM stops it as Ctrl-C does.
        stack.process.send_signal(signal.SIGTERM)
        assert stack.process.wait(timeout=30) == 0
        assert not any(alive(pid) for pid in restarted)


@pytest.mark.parametrize("taken", ["web", "broker"])
def test_a_port_in_use_is_reported_before_anything_starts(tmp_path, taken):
    port, broker_port = free_port(), free_port()
    while broker_port == port:
        broker_port = free_port()
    busy, other = (port, broker_port) if taken == "web" else (broker_port, port)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", busy))
        listener.listen()
        done = subprocess.run(
            devstack_argv(port, broker_port),
            cwd=settings.BASE_DIR,
            env=devstack_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    what = "web server" if taken == "web" else "broker"
    variable = "PORT" if taken == "web" else "BROKER_PORT"
    assert f"port {busy} (the {what}'s) is already in use" in done.stderr, done.stderr
    assert f"make run {variable}=N" in done.stderr
    # Nothing was started: no database made, no broker, no banner.
    assert not (tmp_path / "devstack.sqlite3").exists()
    assert port_is_free(other)
    assert "is running" not in done.stdout
    assert "Traceback" not in done.stderr


def test_devstack_stops_with_a_clear_message_when_it_is_not_ready_in_time(tmp_path):
    with running_devstack(tmp_path, "--ready-timeout", "0.5") as stack:
        assert stack.process.wait(timeout=60) == 1
        time.sleep(0.5)  # the last lines through the pipe
        output = stack.output()
        assert "replay-issues is running" not in output
        assert "devstack: not ready within 0.5 s: still waiting for " in output, output
        assert "recordings" in output.split("still waiting for ")[1].split(";")[0]
        assert "devstack stopped" in output
        children = (f"127.0.0.1:{stack.port}", f"127.0.0.1:{stack.broker_port}")
        assert not any(running(c) for c in children)


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
