"""Supervision of the development stack's child processes: start them, stop them all together."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from pipeline.children import spawn


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


class Supervisor:
    """Runs children in sessions of their own, so that one Ctrl-C stops them in a set order."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[Child] = []

    def start(self, name: str, argv: list[str]) -> Child:
        child = Child(name, argv)
        child.process = spawn(argv, env=self.env)
        self.children.append(child)
        return child

    def wait(self) -> int:
        """Block until Ctrl-C or SIGTERM (0) or until a child dies on its own (1)."""
        stop = False

        def request_stop(_signum: int, _frame: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stop:
            for child in self.children:
                if child.process is not None and child.process.poll() is not None:
                    code = child.process.returncode
                    print(f"{child.name} exited with code {code}; stopping", file=sys.stderr)
                    return 1
            time.sleep(0.2)
        return 0

    def stop_all(self, timeout_s: float = 10.0) -> None:
        """Stop the children, last started first, each with SIGTERM and then SIGKILL."""
        for child in reversed(self.children):
            process = child.process
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
