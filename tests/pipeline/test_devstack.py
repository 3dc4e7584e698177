"""``manage.py devstack`` as a user runs it: it serves the endpoint, and Ctrl-C stops everything."""

import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from django.conf import settings

from pipeline.broker import free_port
from tests.sdk_fixtures import replay_requests


@pytest.fixture
def devstack(tmp_path):
    port, broker_port = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'devstack.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "devstack",
            "--port",
            str(port),
            "--broker-port",
            str(broker_port),
            "--workers",
            "1",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode()
        output.append(line)
        if "Press Ctrl-C to stop" in line or process.poll() is not None:
            break
    yield process, port, broker_port, "".join(output)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def running(pattern: str) -> bool:
    return bool(subprocess.run(["pgrep", "-f", pattern], capture_output=True).stdout)


def test_devstack_serves_the_endpoint_and_stops_on_ctrl_c(devstack):
    process, port, broker_port, banner = devstack
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

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    children = (f"127.0.0.1:{port}", f"127.0.0.1:{broker_port}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(running(c) for c in children):
        time.sleep(0.2)
    assert not any(running(c) for c in children), "a child of devstack outlived it"


def test_a_killed_devstack_leaves_no_child_running(devstack):
    process, port, broker_port, banner = devstack
    assert process.poll() is None, banner
    children = (f"127.0.0.1:{port}", f"127.0.0.1:{broker_port}")
    assert all(running(c) for c in children)

    process.kill()
    process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(running(c) for c in children):
        time.sleep(0.2)
    assert not any(running(c) for c in children), "a child of devstack outlived it"
