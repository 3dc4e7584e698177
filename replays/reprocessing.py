"""Detection again over stored segments: what ``reprocess_replays`` and the settings preview run.

A stored segment is read back as the consumer decoded it (its recording through the recordings
storage, one at a time; its replay_event from its row) and goes through ``detect_stored_segment``,
the one place where stored segments meet the consumer's own detection entry point
(``detect_clicks``): a change to detection applies to reprocessing with no second copy. Its
clicks' windows, and its error-click candidates', are built again from the replay's stored
timeline and error events with the consumer's own functions (``windowed``, ``is_raised``), so an
error click is raised as the consumer raised it once every entry had arrived.

Occurrence ids do not depend on the settings or the clock, so publishing a segment's occurrences
again adds nothing the issues consumer has already counted: a run can be stopped at any point and
started again from the beginning.
"""

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.files.storage import storages
from django.db.models import QuerySet

from issues import grouptypes
from issues.fingerprints import occurrence_hashes
from issues.models import IssueHash
from replays.click_windows import replay_timeline_within
from replays.detection.detect import Detection, DetectionSettings, Segment, detect_clicks
from replays.detection.occurrence import Occurrence, is_raised, window_ms_of, windowed
from replays.detection.recording import Recording, inflate_recording
from replays.detection.replay_event import ReplayEvent, User, replay_event_from_dict
from replays.detection.user_agent import Client
from replays.detection.window import window_bounds
from replays.models import Replay, ReplaySegment
from replays.services import STORAGE_ERRORS, RecordingStorageUnavailable

logger = logging.getLogger(__name__)

# Rows fetched from the database at a time: the run holds this many, and one recording.
CHUNK_ROWS = 500


class RecordingGone(Exception):
    """A stored segment's recording is not in the storage (purged since the run began)."""


def replay_event_of(row: ReplaySegment, replay: Replay) -> ReplayEvent:
    """The segment's replay_event as detection read it; for a segment stored before rows kept it,
    the replay's merged fields (the first value seen of each, the first URL as the page: a later
    segment of a replay that changed release or user mid-way reads the first one's)."""
    if row.replay_event is not None:
        return replay_event_from_dict(row.replay_event)
    return ReplayEvent(
        timestamp=row.timestamp.timestamp() if row.timestamp else None,
        urls=tuple(replay.urls[:1]),
        replay_type=replay.replay_type or None,
        environment=replay.environment or None,
        release=replay.release or None,
        platform=replay.platform or None,
        sdk_name=replay.sdk_name or None,
        sdk_version=replay.sdk_version or None,
        request_url=replay.urls[0] if replay.urls else None,
        user=User(
            id=replay.user_id or None,
            email=replay.user_email or None,
            username=replay.user_name or None,
            ip_address=replay.user_ip or None,
        ),
        client=Client(
            browser=replay.browser or None,
            browser_version=replay.browser_version or None,
            os=replay.os or None,
            os_version=replay.os_version or None,
            device=replay.device or None,
        ),
    )


def stored_segment(row: ReplaySegment, replay: Replay, max_inflated_bytes: int) -> Segment:
    """The segment as the consumer decoded it, its recording read back from the storage."""
    try:
        with storages["recordings"].open(row.recording, "rb") as file:
            body = file.read()
    except FileNotFoundError as exc:
        raise RecordingGone(f"the recording {row.recording} is gone (purged?)") from exc
    except STORAGE_ERRORS as exc:
        raise RecordingStorageUnavailable(
            f"recordings storage unavailable: cannot read {row.recording}: {exc}"
        ) from exc
    recording = Recording(row.segment_id, body, compressed=True)
    return Segment(
        project_id=replay.project_id,
        org_id=replay.project.org_id or 0,
        key_id=None,
        replay_id=replay.replay_id.hex,
        segment_id=row.segment_id,
        received=int(row.received_at.timestamp()),
        retention_days=replay.retention_days,
        replay_event=replay_event_of(row, replay),
        recording=recording,
        events=inflate_recording(recording, max_inflated_bytes),
    )


def detect_stored_segment(
    row: ReplaySegment,
    replay: Replay,
    settings: Sequence[DetectionSettings],
    now: float,
    max_inflated_bytes: int,
) -> tuple[Detection, ...]:
    """Detection over one stored segment by the consumer's own entry point, once per settings
    (a preview compares two): the recording is read once."""
    segment = stored_segment(row, replay, max_inflated_bytes)
    return tuple(
        _with_replay_windows(replay, detect_clicks(segment, each, now)) for each in settings
    )


def _with_replay_windows(replay: Replay, detection: Detection) -> Detection:
    """Each click occurrence, and each error-click candidate, with the window the replay's whole
    stored timeline and its stored error events give it, as the consumer last built it: the
    segment alone holds only its own entries (a request whose span came in a later segment would
    be "pending" again; an error event never is in a recording)."""
    windowed_clicks = [
        found.occurrence for found in detection.clicks if "window" in found.occurrence.evidence_data
    ]
    opened = [*windowed_clicks, *detection.error_click_candidates]
    if not opened:
        return detection
    bounds = [
        window_bounds(occurrence.evidence_data["timestamp"], window_ms_of(occurrence.evidence_data))
        for occurrence in opened
    ]
    entries = replay_timeline_within(
        replay, min(start for start, _ in bounds), max(end for _, end in bounds)
    )
    clicks = tuple(
        dataclasses.replace(found, occurrence=windowed(found.occurrence, entries))
        if "window" in found.occurrence.evidence_data
        else found
        for found in detection.clicks
    )
    candidates = tuple(
        windowed(candidate, entries) for candidate in detection.error_click_candidates
    )
    return dataclasses.replace(detection, clicks=clicks, error_click_candidates=candidates)


def published_occurrences(detection: Detection) -> list[Occurrence]:
    """What the consumer publishes of a segment once the replay's entries are all in: its
    occurrences, and its error-click candidates whose window holds an error once
    ``_with_replay_windows`` built it from the replay's timeline and error events."""
    return [
        *detection.occurrences,
        *(candidate for candidate in detection.error_click_candidates if is_raised(candidate)),
    ]


def stored_segments(
    project_id: int, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[ReplaySegment]:
    """The project's stored segments received in ``[since, until)``, in (replay, segment) order."""
    rows = ReplaySegment.objects.filter(replay__project_id=project_id)
    if since is not None:
        rows = rows.filter(received_at__gte=since)
    if until is not None:
        rows = rows.filter(received_at__lt=until)
    return rows.select_related("replay", "replay__project").order_by("replay_id", "segment_id")


@dataclass
class Progress:
    """Where a run is: segments done of the total, and how fast."""

    total: int
    done: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate else None


@dataclass
class Summary:
    """What a run found: ``--json``'s object, and the preview's side of a comparison."""

    segments: int = 0
    replays: int = 0
    skipped: int = 0
    occurrences: Counter[str] = field(default_factory=Counter)
    # Occurrences per fingerprint (its primary hash), and per (type slug, element selector).
    by_fingerprint: Counter[str] = field(default_factory=Counter)
    by_element: Counter[tuple[str, str]] = field(default_factory=Counter)
    titles: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    first_received: datetime | None = None
    last_received: datetime | None = None
    _last_replay: int | None = None
    # With ``count_users`` (a preview: its segments are capped), each fingerprint's distinct
    # users (by the issues consumer's key): what a noise threshold in users reads.
    count_users: bool = False
    users: dict[str, set[str]] = field(default_factory=dict)
    # A run that publishes: the fingerprints that no issue had just before their occurrences
    # were published (``note_new_before_publishing``). Read at the end instead, they would
    # depend on whether the issues consumer had grouped them meanwhile.
    new_when_published: set[str] | None = None

    def add(self, row: ReplaySegment, occurrences: list[Occurrence]) -> None:
        """Count one segment's occurrences (segments come in (replay, segment) order)."""
        self.segments += 1
        if row.replay_id != self._last_replay:
            self.replays += 1
            self._last_replay = row.replay_id
        received = row.received_at
        self.first_received = min(filter(None, (self.first_received, received)))
        self.last_received = max(filter(None, (self.last_received, received)))
        for occurrence in occurrences:
            slug = _slug(occurrence.type)
            self.occurrences[slug] += 1
            primary = occurrence_hashes(occurrence.type, occurrence.fingerprint)[0]
            self.by_fingerprint[primary] += 1
            if self.count_users and (user := user_key(occurrence)):
                self.users.setdefault(primary, set()).add(user)
            self.titles.setdefault(primary, (slug, occurrence.issue_title, occurrence.culprit))
            selector = occurrence.evidence_data.get("selector") or occurrence.culprit
            self.by_element[(slug, str(selector))] += 1

    def new_issues(self, project_id: int) -> int:
        """Fingerprints found that no issue of the project has yet (a run that publishes: had
        when their occurrences were published)."""
        return len(self.new_fingerprints(project_id))

    def new_fingerprints(self, project_id: int) -> set[str]:
        if self.new_when_published is not None:
            return set(self.new_when_published)
        return _unknown_hashes(project_id, self.by_fingerprint)

    def note_new_before_publishing(self, project_id: int, occurrences: list[Occurrence]) -> None:
        """Keep which of ``occurrences``' fingerprints no issue has, before they are published."""
        hashes = {
            occurrence_hashes(occurrence.type, occurrence.fingerprint)[0]
            for occurrence in occurrences
        }
        if self.new_when_published is None:
            self.new_when_published = set()
        self.new_when_published |= _unknown_hashes(project_id, hashes - self.new_when_published)

    def as_json(self, project_id: int) -> dict[str, object]:
        return {
            "segments": self.segments,
            "replays": self.replays,
            "occurrences": dict(sorted(self.occurrences.items())),
            "new_issues": self.new_issues(project_id),
        }


def _unknown_hashes(project_id: int, hashes: Iterable[str]) -> set[str]:
    """Those of ``hashes`` that no issue of the project has (500 a query)."""
    hashes = list(hashes)
    known: set[str] = set()
    for start in range(0, len(hashes), 500):
        known.update(
            IssueHash.objects.filter(
                project_id=project_id, hash__in=hashes[start : start + 500]
            ).values_list("hash", flat=True)
        )
    return set(hashes) - known


def user_key(occurrence: Occurrence) -> str:
    """The key that counts the occurrence's user on its issue, as the issues consumer reads it
    (the id, else the email, the username, the IP address); empty when it names none."""
    user = occurrence.event.get("user") or {}
    return User(**{name: user.get(name) for name in User.__slots__}).key or ""


def _slug(type_id: int) -> str:
    group_type = grouptypes.get_by_id(type_id)
    return group_type.slug if group_type else str(type_id)


def reprocess(
    project_id: int,
    settings: DetectionSettings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    publish: Callable[[list[Occurrence]], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    max_inflated_bytes: int,
    publish_batch: int = 500,
) -> Summary:
    """Run detection with ``settings`` over the project's stored segments in the range, publish
    the occurrences (``publish``, in batches; None publishes nothing) and sum them up."""
    summary = Summary()
    pending: list[Occurrence] = []

    def found(row: ReplaySegment, detections: tuple[Detection, ...]) -> None:
        nonlocal pending
        occurrences = published_occurrences(detections[0])
        summary.add(row, occurrences)
        if publish is not None:
            pending.extend(occurrences)
            if len(pending) >= publish_batch:
                summary.note_new_before_publishing(project_id, pending)
                publish(pending)
                pending = []

    summary.skipped = run_detection(
        stored_segments(project_id, since, until),
        (settings,),
        found,
        on_progress,
        max_inflated_bytes,
    )
    if publish is not None:
        summary.note_new_before_publishing(project_id, pending)
        if pending:
            publish(pending)
    return summary


def compare(
    project_id: int,
    current: DetectionSettings,
    draft: DetectionSettings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    max_inflated_bytes: int,
) -> tuple[Summary, Summary]:
    """What ``current`` and ``draft`` find over the same stored segments; publishes nothing."""
    before, after = Summary(count_users=True), Summary(count_users=True)

    def found(row: ReplaySegment, detections: tuple[Detection, ...]) -> None:
        before.add(row, published_occurrences(detections[0]))
        after.add(row, published_occurrences(detections[1]))

    before.skipped = after.skipped = run_detection(
        stored_segments(project_id, since, until),
        (current, draft),
        found,
        on_progress,
        max_inflated_bytes,
    )
    return before, after


def run_detection(
    rows: QuerySet[ReplaySegment],
    settings: Sequence[DetectionSettings],
    found: Callable[[ReplaySegment, tuple[Detection, ...]], None],
    on_progress: Callable[[Progress], None] | None,
    max_inflated_bytes: int,
) -> int:
    """Detection over each row, one recording at a time, ``CHUNK_ROWS`` rows fetched at a time;
    returns how many segments were skipped.

    A segment whose recording is gone (purged since the run began), corrupt or tripping a bug is
    skipped; the storage unavailable stops the run (started again, it publishes nothing twice)."""
    progress = Progress(total=rows.count())
    skipped = 0
    now = time.time()
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        try:
            detections = detect_stored_segment(row, row.replay, settings, now, max_inflated_bytes)
        except RecordingStorageUnavailable:
            raise
        except Exception:  # not the run's end: one segment's own problem
            logger.warning("segment %s skipped", row, exc_info=True)
            skipped += 1
        else:
            found(row, detections)
        progress.done += 1
        if on_progress is not None:
            on_progress(progress)
    return skipped


def parse_instant(value: str) -> datetime:
    """An ISO 8601 date or time; without a zone, UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
