"""Child processes that die with their parent, so a killed devstack or test run leaves none."""

import ctypes
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def preexec_die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGTERM the child when its parent dies."""
    return _die_with_parent if sys.platform == "linux" else None


def spawn(argv: list[str], **popen_kwargs: Any) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a session of its own (Ctrl-C reaches the parent only), tied to our life."""
    return subprocess.Popen(
        argv, start_new_session=True, preexec_fn=preexec_die_with_parent(), **popen_kwargs
    )
