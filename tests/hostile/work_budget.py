"""How much work a call does, measured in units that do not depend on how busy the machine is:
the Python lines it executes and the peak of the memory it allocates.

The hostile tests bound these instead of the wall-clock time (which swings with the load of a
shared machine: a 0.5 s bound failed on a loaded one while the code was unchanged). A quadratic
loop or a parse of the whole input shows up as millions of lines or megabytes of allocations;
speed itself is measured by ``make bench``.
"""

import sys
import tracemalloc
from collections.abc import Callable
from typing import Any


class WorkBudgetExceeded(AssertionError):
    pass


def python_lines(call: Callable[[], Any], budget: int) -> int:
    """Run ``call`` and return how many Python lines it executed; raise ``WorkBudgetExceeded``
    as soon as it passes ``budget`` (so a runaway loop fails fast instead of running on)."""
    executed = 0
    exceeded = False

    def trace_lines(frame, event, arg):
        nonlocal executed, exceeded
        if event == "line":
            executed += 1
            if executed > budget and not exceeded:
                exceeded = True
                sys.settrace(None)
                raise WorkBudgetExceeded(f"more than {budget} Python lines executed")
        return None if exceeded else trace_lines

    def trace_calls(frame, event, arg):
        return None if exceeded else trace_lines

    previous = sys.gettrace()
    sys.settrace(trace_calls)
    try:
        call()
    finally:
        sys.settrace(previous)
    if exceeded:  # raised inside ``call`` and swallowed there
        raise WorkBudgetExceeded(f"more than {budget} Python lines executed")
    return executed


def peak_allocated(call: Callable[[], Any]) -> int:
    """The peak of the memory ``call`` allocated on top of what existed before, in bytes."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
