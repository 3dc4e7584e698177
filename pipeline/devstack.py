"""Supervision of the development stack's child processes: start them, restart one that exits
(with backoff), give up on one that keeps failing, and stop them all together.

The restart policy is a pure function (``plan_restart``) of a child's history; ``Supervisor``
applies it to real processes. Each command child's output is copied to ours, every line prefixed
with the child's name, and its last lines are kept to be shown when the child is given up on.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pipeline.children import spawn

TAIL_LINES = 20


@dataclass(frozen=True)
class RestartPolicy:
    """A child that exits is started again after ``first_delay_s``, doubling on each exit up to
    ``max_delay_s``; a run of ``stable_after_s`` or more counts as healthy and starts the doubling
    over. More than ``max_exits`` exits within ``window_s`` means it keeps failing: give up."""

    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    stable_after_s: float = 60.0
    max_exits: int = 5
    window_s: float = 300.0


@dataclass(frozen=True)
class RestartHistory:
    """What the policy needs to know of a child: its exits (monotonic times, the recent ones) and
    the delay before its last restart (``None``: never restarted, or last run was stable)."""

    exits: tuple[float, ...] = ()
    last_delay_s: float | None = None


def plan_restart(
    policy: RestartPolicy, history: RestartHistory, started_at: float, exited_at: float
) -> tuple[float | None, RestartHistory]:
    """The delay before starting a child again that ran from ``started_at`` to ``exited_at``
    (``None``: it keeps failing, give up), and its history with this exit."""
    exits = (*(t for t in history.exits if exited_at - t < policy.window_s), exited_at)
    if len(exits) > policy.max_exits:
        return None, replace(history, exits=exits)
    stable = exited_at - started_at >= policy.stable_after_s
    if history.last_delay_s is None or stable:
        delay = policy.first_delay_s
    else:
        delay = min(history.last_delay_s * 2, policy.max_delay_s)
    return delay, RestartHistory(exits=exits, last_delay_s=delay)


def exit_description(code: int) -> str:
    """How a process ended, from its return code (negative: the signal that killed it)."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class Child:
    name: str
    launch: Callable[[], subprocess.Popen[bytes]]
    # Where its output is, for the message when it is given up on (command children: ours).
    output_hint: str = ""
    # A line of its output that says it is ready (None: ready once started).
    ready_marker: str | None = None
    stop: Callable[[subprocess.Popen[bytes]], None] | None = field(default=None, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0
    restart_at: float | None = None
    history: RestartHistory = field(default_factory=RestartHistory)
    ready: threading.Event = field(default_factory=threading.Event, repr=False)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES), repr=False)
    output_copier: threading.Thread | None = field(default=None, repr=False)


class Supervisor:
    """Runs children in sessions of their own, so that one Ctrl-C stops them in a set order, and
    restarts those that exit by ``policy`` until stopped."""

    def __init__(
        self,
        env: dict[str, str],
        policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.env = env
        self.policy = policy or RestartPolicy()
        self.clock = clock
        self.children: list[Child] = []
        self.stop_requested = threading.Event()
        self._output_lock = threading.Lock()

    # --- starting -----------------------------------------------------------------------------
    def start(self, name: str, argv: list[str], ready_marker: str | None = None) -> Child:
        """Start a command whose output (stdout and stderr) is copied to ours, prefixed."""

        def launch() -> subprocess.Popen[bytes]:
            return spawn(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        hint = f"its last lines are above, prefixed '{name} |'"
        return self.start_process(name, launch, output_hint=hint, ready_marker=ready_marker)

    def start_process(
        self,
        name: str,
        launch: Callable[[], subprocess.Popen[bytes]],
        output_hint: str = "",
        ready_marker: str | None = None,
        stop: Callable[[subprocess.Popen[bytes]], None] | None = None,
    ) -> Child:
        """Start a child by ``launch`` (called again for each restart)."""
        child = Child(name, launch, output_hint, ready_marker, stop)
        self.children.append(child)
        self._launch(child)
        return child

    def _launch(self, child: Child) -> None:
        child.restart_at = None
        child.ready.clear()
        child.started_at = self.clock()
        child.process = child.launch()
        if child.ready_marker is None:
            child.ready.set()
        child.output_copier = None
        if child.process.stdout is not None:
            child.output_copier = threading.Thread(
                target=self._copy_output, args=(child, child.process), daemon=True
            )
            child.output_copier.start()

    def _copy_output(self, child: Child, process: subprocess.Popen[bytes]) -> None:
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            child.tail.append(line)
            if child.ready_marker is not None and child.ready_marker in line:
                child.ready.set()
            self.say(f"{child.name} | {line}", stream=sys.stdout)
        process.stdout.close()

    def say(self, text: str, stream: object = None) -> None:
        with self._output_lock:
            out = stream or sys.stderr
            out.write(text + "\n")
            out.flush()

    # --- watching -----------------------------------------------------------------------------
    def handle_signals(self) -> None:
        """Ctrl-C and SIGTERM ask the supervisor to stop (``wait`` then returns 0)."""

        def request_stop(_signum: int, _frame: object) -> None:
            self.stop_requested.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

    def check(self) -> str | None:
        """Restart what exited and is due; ``None``, or why the stack must stop."""
        now = self.clock()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self.say(f"devstack: starting {child.name} again")
                    try:
                        self._launch(child)
                    except (OSError, RuntimeError) as exc:
                        return (
                            f"devstack: {child.name} could not be started again ({exc}); stopping"
                        )
                continue
            if child.process is None or child.process.poll() is None:
                continue
            code = child.process.returncode
            delay, child.history = plan_restart(self.policy, child.history, child.started_at, now)
            if delay is None:
                if child.output_copier is not None:
                    child.output_copier.join(timeout=2)  # its last lines, for the message
                return (
                    f"devstack: {child.name} keeps failing: it exited {len(child.history.exits)} "
                    f"times within {self.policy.window_s:g} s (the last time it "
                    f"{exit_description(code)}); "
                    f"stopping. {self.last_output(child)}"
                )
            self.say(
                f"devstack: {child.name} {exit_description(code)} "
                f"at {time.strftime('%H:%M:%S')}; restarting it in {delay:g} s"
            )
            child.restart_at = now + delay
        return None

    def last_output(self, child: Child) -> str:
        hint = child.output_hint or "see its output above"
        if not child.tail:
            return f"Its output: {hint}."
        lines = "\n".join(f"  {line}" for line in child.tail)
        return f"Its output ({hint}); the last lines:\n{lines}"

    def wait(self) -> int:
        """Block until Ctrl-C or SIGTERM (0) or until a child keeps failing (1)."""
        while not self.stop_requested.is_set():
            problem = self.check()
            if problem is not None:
                self.say(problem)
                return 1
            self.stop_requested.wait(0.2)
        return 0

    def wait_until_ready(
        self, timeout_s: float, probes: dict[str, Callable[[], bool]]
    ) -> str | None:
        """Wait until every child is ready and each of ``probes`` (by child name) answers true,
        restarting children as ``wait`` does; ``None`` once ready, else why not."""
        deadline = self.clock() + timeout_s
        answered: set[str] = set()
        while not self.stop_requested.is_set():
            problem = self.check()
            if problem is not None:
                return problem
            for name, probe in probes.items():
                if name not in answered and probe():
                    answered.add(name)
            waiting = [
                child.name
                for child in self.children
                if not child.ready.is_set()
                or child.restart_at is not None
                or (child.name in probes and child.name not in answered)
            ]
            if not waiting:
                return None
            if self.clock() > deadline:
                names = ", ".join(waiting)
                return (
                    f"devstack: not ready within {timeout_s:g} s: still waiting for {names}; "
                    "stopping. "
                    + " ".join(
                        self.last_output(child) for child in self.children if child.name in waiting
                    )
                )
            self.stop_requested.wait(0.2)
        return "devstack: stopped before it was ready"

    # --- stopping -----------------------------------------------------------------------------
    def stop_all(self, timeout_s: float = 10.0) -> None:
        """Stop the children, last started first, each with SIGTERM and then SIGKILL (or its own
        ``stop``)."""
        for child in reversed(self.children):
            process = child.process
            child.restart_at = None
            if process is None or process.poll() is not None:
                continue
            if child.stop is not None:
                child.stop(process)
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
