"""devstack's supervision: the restart policy as a pure function, and the Supervisor on real tiny
child processes (no Django, no broker)."""

import os
import sys
import threading
import time

import pytest

from pipeline.devstack import RestartHistory, RestartPolicy, Supervisor, plan_restart

POLICY = RestartPolicy(
    first_delay_s=1, max_delay_s=30, stable_after_s=60, max_exits=5, window_s=300
)


def exits_every(policy: RestartPolicy, run_s: float, count: int) -> list[float | None]:
    """The delays the policy gives a child that runs ``run_s`` and exits, ``count`` times over."""
    history, now, delays = RestartHistory(), 0.0, []
    for _ in range(count):
        started_at, now = now, now + run_s
        delay, history = plan_restart(policy, history, started_at, now)
        delays.append(delay)
        if delay is None:
            break
        now += delay
    return delays


def test_the_delay_doubles_from_one_second_up_to_thirty():
    policy = RestartPolicy(max_exits=100, window_s=1)  # never gives up here
    assert exits_every(policy, run_s=1, count=8) == [1, 2, 4, 8, 16, 30, 30, 30]


def test_a_stable_run_starts_the_doubling_over():
    history = RestartHistory()
    delay, history = plan_restart(POLICY, history, started_at=0, exited_at=1)
    delay, history = plan_restart(POLICY, history, started_at=2, exited_at=3)
    delay, history = plan_restart(POLICY, history, started_at=5, exited_at=6)
    assert delay == 4
    # It then ran a minute: the next exit is restarted after the first delay again.
    delay, history = plan_restart(POLICY, history, started_at=10, exited_at=70)
    assert delay == 1


def test_a_child_that_keeps_failing_is_given_up_after_max_exits_within_the_window():
    # Five exits are restarted, the sixth within five minutes is not.
    assert exits_every(POLICY, run_s=0.5, count=10) == [1, 2, 4, 8, 16, None]


def test_exits_older_than_the_window_are_forgotten():
    policy = RestartPolicy(max_exits=2, window_s=100)
    history = RestartHistory()
    for exited_at in (0, 50):
        delay, history = plan_restart(policy, history, exited_at - 1, exited_at)
        assert delay is not None
    # Two exits within 100 s are allowed; a third at 120 s counts only the one at 50 s.
    delay, history = plan_restart(policy, history, 119, 120)
    assert delay is not None
    assert history.exits == (50, 120)
    delay, _ = plan_restart(policy, history, 121, 122)
    assert delay is None


FAST = RestartPolicy(first_delay_s=0.05, max_delay_s=0.2, stable_after_s=60, max_exits=3)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.fixture
def supervisor():
    supervisor = Supervisor(dict(os.environ), policy=FAST)
    yield supervisor
    supervisor.stop_all(timeout_s=5)


def test_a_child_that_keeps_failing_stops_the_stack_with_its_name_code_and_output(
    supervisor, capsys
):
    supervisor.start("flaky", python("print('cannot reach the database'); raise SystemExit(3)"))
    started = time.monotonic()
    assert supervisor.wait() == 1
    assert time.monotonic() - started < 10

    err = capsys.readouterr().err
    restarts = [line for line in err.splitlines() if "restarting it in" in line]
    assert len(restarts) == 3, err
    assert all("flaky exited with code 3" in line for line in restarts)
    assert [line.rsplit(" in ", 1)[1] for line in restarts] == ["0.05 s", "0.1 s", "0.2 s"]
    assert "flaky keeps failing: it exited 4 times within 300 s" in err
    assert "exited with code 3); stopping" in err
    # Where to look, and the last lines themselves.
    assert "prefixed 'flaky |'" in err
    assert "  cannot reach the database" in err


def test_a_child_that_exits_once_is_restarted_and_the_stack_carries_on(
    supervisor, tmp_path, capsys
):
    marker = tmp_path / "ran-once"
    code = (
        "import pathlib, sys, time\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.touch(); sys.exit(3)\n"
        "print('up', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = supervisor.start("consumer", python(code), ready_marker="up")
    first_pid = child.process.pid
    assert supervisor.wait_until_ready(10, {}) is None
    assert child.process.pid != first_pid
    assert child.process.poll() is None

    # It stays up: wait() returns 0 only when asked to stop.
    threading.Timer(0.5, supervisor.stop_requested.set).start()
    assert supervisor.wait() == 0
    assert child.process.poll() is None
    supervisor.stop_all(timeout_s=5)
    assert child.process.poll() is not None

    captured = capsys.readouterr()
    assert "devstack: consumer exited with code 3 at " in captured.err
    assert "restarting it in 0.05 s" in captured.err
    assert "devstack: starting consumer again" in captured.err
    assert "consumer | up" in captured.out


def test_a_killed_child_is_named_with_its_signal(supervisor, capsys):
    child = supervisor.start("web", python("import time; time.sleep(60)"))
    child.process.kill()
    child.process.wait()
    assert supervisor.check() is None
    assert "devstack: web was killed by SIGKILL at " in capsys.readouterr().err


def test_not_ready_in_time_names_what_it_waits_for(supervisor):
    supervisor.start(
        "consumer",
        python("print('starting', flush=True); import time; time.sleep(60)"),
        ready_marker="partitions assigned",
    )
    supervisor.start("web", python("import time; time.sleep(60)"))
    problem = supervisor.wait_until_ready(1, {"web": lambda: False})
    assert problem is not None
    assert "not ready within 1 s: still waiting for consumer, web" in problem
    assert "  starting" in problem
