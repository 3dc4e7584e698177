"""A logging filter that lets a repeated line through once per interval, with a count.

While a broker is down, every librdkafka client logs "Connect to ... failed: Connection refused"
at each reconnect attempt, a line every few tens of milliseconds across a process's clients: the
outage's first line says all there is, and the flood hides everything else in the log. Lines are
told apart by their text with the numbers taken out (durations, counts, ports stay alike), so one
broker's refusals are one line and another message is another.
"""

import logging
import re
import time
from collections.abc import Callable

NUMBERS = re.compile(r"\d+")


class RepeatThrottle(logging.Filter):
    """Passes a line, then drops lines like it for ``interval_s``; the first one through after
    that says how many were dropped."""

    def __init__(
        self, interval_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.clock = clock
        # the line's shape -> (when it last went through, lines dropped since)
        self._seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        shape = NUMBERS.sub("#", record.getMessage())
        now = self.clock()
        last = self._seen.get(shape)
        if last is not None and now - last[0] < self.interval_s:
            self._seen[shape] = (last[0], last[1] + 1)
            return False
        if last is not None and last[1]:
            record.msg = f"{record.getMessage()} ({last[1]} more like it in {now - last[0]:.0f}s)"
            record.args = None
        if len(self._seen) > 1000:  # a bound, should messages ever be all different
            self._seen.clear()
        self._seen[shape] = (now, 0)
        return True
