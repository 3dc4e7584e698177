"""The throttle on librdkafka's repeated lines (pipeline/log_throttle.py)."""

import logging

from pipeline.log_throttle import RepeatThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("librdkafka", logging.ERROR, __file__, 1, message, args, None)


REFUSED = "FAIL [rdkafka#consumer-%d] 127.0.0.1:%d/bootstrap: Connect failed (after %dms)"


def test_a_repeated_line_passes_once_per_interval_then_says_how_many_were_dropped():
    clock = Clock()
    throttle = RepeatThrottle(interval_s=30, clock=clock)
    passed = []
    for step in range(100):  # every 0.5 s for 50 s, numbers changing
        clock.now = step * 0.5
        line = record(REFUSED, 2, 9092, step)
        if throttle.filter(line):
            passed.append(line.getMessage())
    assert len(passed) == 2
    assert passed[0].endswith("(after 0ms)")
    assert passed[1].endswith("(after 60ms) (59 more like it in 30s)")


def test_other_lines_pass_meanwhile():
    clock = Clock()
    throttle = RepeatThrottle(interval_s=30, clock=clock)
    assert throttle.filter(record(REFUSED, 2, 9092, 0))
    assert not throttle.filter(record(REFUSED, 3, 9093, 0))  # another client, same line
    assert throttle.filter(record("SESSTMOUT [rdkafka#consumer-2]: session timed out"))
    assert throttle.filter(record("REBALANCE [rdkafka#consumer-2]: group is rebalancing"))


def test_a_line_that_comes_back_after_the_interval_passes_as_it_is():
    clock = Clock()
    throttle = RepeatThrottle(interval_s=30, clock=clock)
    assert throttle.filter(record(REFUSED, 2, 9092, 0))
    clock.now = 31
    line = record(REFUSED, 2, 9092, 0)
    assert throttle.filter(line)
    assert line.getMessage().endswith("(after 0ms)")
