"""``manage.py devstack`` as a user runs it: it serves the endpoint, and Ctrl-C stops everything."""

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.devstack import running_devstack
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


def test_devstack_serves_the_endpoint_and_stops_on_ctrl_c(devstack):
    process, port, broker_port, banner, database = devstack
    assert process.poll() is None, banner
    assert "/admin/" in banner
    assert "login admin / admin" in banner
    assert f"@127.0.0.1:{port}/42" in banner

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
    assert len(consumers) == 2  # consume_recordings and consume_occurrences

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    children = (f"127.0.0.1:{port}", f"127.0.0.1:{broker_port}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(running(c) for c in children):
        time.sleep(0.2)
    assert not any(running(c) for c in children), "a child of devstack outlived it"
    assert not any(alive(pid) for pid in consumers), "the consumer outlived devstack"


def test_a_killed_devstack_leaves_no_child_running(devstack):
    process, port, broker_port, banner, _ = devstack
    assert process.poll() is None, banner
    children = (f"127.0.0.1:{port}", f"127.0.0.1:{broker_port}")
    assert all(running(c) for c in children)
    consumers = consumer_pids(process.pid)
    assert len(consumers) == 2  # consume_recordings and consume_occurrences

    process.kill()
    process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(running(c) for c in children):
        time.sleep(0.2)
    assert not any(running(c) for c in children), "a child of devstack outlived it"
    assert not any(alive(pid) for pid in consumers), "the consumer outlived devstack"
