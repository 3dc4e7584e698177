"""The service's Prometheus metrics (prometheus-client), and how a process serves them.

Every process of the service records into these metrics. With ``PROMETHEUS_MULTIPROC_DIR`` set
(gunicorn's workers, and the consumers when they run on one host with the web server, as in
``devstack``), each process writes its values to files in that directory and a scrape adds them
up; the directory must be emptied before the processes start (the container's entrypoint and
devstack do it). Without it, a process serves its own values.

- ``/metrics`` on the web server: everything in its multi-process directory.
- ``consume_* --metrics-port N``: the same for a consumer that runs on a host of its own.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

ENVELOPES = Counter(
    "replay_issues_envelopes",
    "Envelopes answered by the envelope endpoint, by outcome and the reason of a refusal.",
    ["outcome", "reason"],
)
POSTED_OCCURRENCES = Counter(
    "replay_issues_posted_occurrences",
    "Occurrences answered by the occurrence endpoint, by outcome and the reason of a refusal.",
    ["outcome", "reason"],
)
SEGMENTS = Counter(
    "replay_issues_segments_processed",
    "Recording segments the replays consumer finished: stored, occurrences published, offset "
    "ready to commit (a re-delivered segment counts again; dead-lettered ones do not).",
)
SEGMENT_SECONDS = Histogram(
    "replay_issues_segment_processing_seconds",
    "Time the replays consumer spent on one segment, by stage (detect: decode, inflate, find "
    "clicks; store: rows, recording file, occurrences).",
    ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OCCURRENCES = Counter(
    "replay_issues_occurrences_produced",
    "Issue occurrences the replays consumer published, by issue type.",
    ["type"],
)
OCCURRENCE_REVISIONS = Counter(
    "replay_issues_occurrence_revisions_produced",
    "Click occurrences the replays consumer published again, with the same id, because a later "
    "segment filled their window (not counted in replay_issues_occurrences_produced).",
    ["type"],
)
DLQ_MESSAGES = Counter(
    "replay_issues_dlq_messages",
    "Messages sent to a dead-letter topic, by that topic.",
    ["topic"],
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def scrape_registry() -> CollectorRegistry:
    """What a scrape returns: every process's values in multi-process mode, else this one's."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def render() -> tuple[bytes, str]:
    """The scrape's body and content type."""
    return generate_latest(scrape_registry()), CONTENT_TYPE_LATEST


def serve(port: int, address: str = "0.0.0.0") -> None:
    """Serve the metrics over HTTP from a thread of this process (the consumers)."""
    start_http_server(port, addr=address, registry=scrape_registry())


def process_exited(pid: int) -> None:
    """Drop a dead process's live gauges (gunicorn's ``child_exit`` hook calls this)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)


OFFSET_GAPS = Counter(
    "replay_issues_offset_gaps",
    "Times a partition's offsets skipped under a consumer (pipeline/offset_gaps.py): 'refetched' "
    "when the missing records came at the next fetch, 'skipped' when they never came.",
    ["outcome"],
)
GROUP_ERRORS = Counter(
    "replay_issues_consumer_group_errors",
    "Commit and poll errors a consumer carried on from (pipeline/group_membership.py): "
    "'membership_lost' when the group had moved on (the consumer rejoins; its uncommitted work "
    "is consumed again), 'coordinator_away' when the coordinator was unreachable (the next "
    "commit carries the offsets), 'lookup_retried' when an offset lookup made while assigning "
    "partitions was asked again (a broker gone or no longer leading).",
    ["kind"],
)
