"""Preview a detection settings change on the stored replays, or apply the saved settings to them:
the runs the admin asks for and the ``run_previews`` worker carries out, never in a request.

A preview runs the current settings and the draft over the same segments of the last N days
(``replays.reprocessing.compare``: one read of each recording) and keeps the comparison on its row;
it publishes nothing. An apply run is ``reprocess_replays`` over the last N days.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from issues.grouptypes import ERROR_CLICK
from issues.models import IssueHash
from issues.queries import noise_threshold_for
from issues.services import SHOW_AT_ONCE, NoiseThreshold
from replays.detection.detect import PRODUCED_TYPES, DetectionSettings
from replays.models import DetectionSettings as DetectionSettingsRow
from replays.models import PreviewRun
from replays.queries import as_detection_settings, load_detection_settings
from replays.reprocessing import Progress, Summary, compare, reprocess, stored_segments

logger = logging.getLogger(__name__)

# The settings' fields a draft carries (all the admin's form edits).
DRAFT_FIELDS = tuple(
    field.name
    for field in DetectionSettingsRow._meta.fields
    if field.name not in ("project", "updated_at")
)
# "Preview on the last N days" (and "apply to the last N days"): N in this range.
PREVIEW_DAYS = range(1, 31)
DEFAULT_PREVIEW_DAYS = 7
# Rows of each list of the comparison.
TOP = 10
# How often a run writes its progress (and its sign of life) to its row, at most.
PROGRESS_EVERY_S = 0.5
# A running run with no sign of life for this long is taken over by another worker.
STALE_AFTER = timedelta(minutes=5)


def draft_of(cleaned_data: dict[str, Any]) -> dict[str, Any]:
    """The draft's fields from a valid settings form, as JSON."""
    return {name: cleaned_data[name] for name in DRAFT_FIELDS if name in cleaned_data}


def preview_days(value: str | None) -> int | None:
    """N of "the last N days" as posted, or None when it is not a whole number in range (the
    browser keeps the field in range: a page that asks for more is refused, not clamped)."""
    try:
        days = int(value or "")
    except ValueError:
        return None
    return days if days in PREVIEW_DAYS else None


def draft_form_data(draft: dict[str, Any]) -> dict[str, Any]:
    """The settings form's data that posts the draft again: "Save this draft" validates it with
    the same form as Save (the admin's and the settings page's), since the rules may have
    changed since the preview. A checkbox that is off and an empty optional field are absent, as
    a browser posts them."""
    return {key: value for key, value in draft.items() if value is not None and value is not False}


def draft_changes(row: DetectionSettingsRow, draft: dict) -> list[tuple[str, object, object]]:
    """The draft's fields that differ from the saved row: (label, saved, draft)."""
    return [
        (str(field.verbose_name), getattr(row, field.name), draft[field.name])
        for field in DetectionSettingsRow._meta.fields
        if field.name in draft and draft[field.name] != getattr(row, field.name)
    ]


def draft_settings(project_id: int, draft: dict[str, Any]) -> DetectionSettings:
    """The pure core's view of a draft (an unsaved row: the same reading as the saved one)."""
    return as_detection_settings(_draft_row(project_id, draft))


def draft_noise_threshold(project_id: int, draft: dict[str, Any]) -> NoiseThreshold:
    """The draft's noise threshold, read as the issues consumer reads the saved one."""
    row = _draft_row(project_id, draft)
    return NoiseThreshold(row.noise_threshold or 1, row.noise_threshold_users)


def _draft_row(project_id: int, draft: dict[str, Any]) -> DetectionSettingsRow:
    fields = {name: value for name, value in draft.items() if name in DRAFT_FIELDS}
    return DetectionSettingsRow(project_id=project_id, **fields)


def compared_types(current: DetectionSettings, draft: DetectionSettings) -> tuple[str, ...]:
    """The types a comparison lists: those a segment raises alone, and error clicks when either
    side enables them (off by default: a row of zeros would only say so)."""
    either = current.enabled | draft.enabled
    return (*PRODUCED_TYPES, *((ERROR_CLICK.slug,) if ERROR_CLICK.slug in either else ()))


def preview_request(project_id: int, user: Any, days: int, draft: dict[str, Any]) -> PreviewRun:
    return PreviewRun.objects.create(
        project_id=project_id,
        kind=PreviewRun.Kind.PREVIEW,
        requested_by=user,
        days=days,
        draft_settings=draft,
    )


def apply_request(project_id: int, user: Any, days: int) -> PreviewRun:
    return PreviewRun.objects.create(
        project_id=project_id, kind=PreviewRun.Kind.APPLY, requested_by=user, days=days
    )


def preview_claim_next(now: datetime | None = None) -> PreviewRun | None:
    """The oldest run that is queued, or running with no sign of life for ``STALE_AFTER`` (its
    worker died: the run starts again, which publishes nothing twice), now marked running by this
    worker. Another worker that saw the same run finds it taken and looks again."""
    now = now or datetime.now(UTC)
    claimable = Q(status=PreviewRun.Status.QUEUED) | Q(
        status=PreviewRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    )
    while True:
        found = (
            PreviewRun.objects.filter(claimable)
            .order_by("created_at", "pk")
            .values_list("pk", "status", "heartbeat_at")
            .first()
        )
        if found is None:
            return None
        pk, status, heartbeat_at = found
        claimed = PreviewRun.objects.filter(pk=pk, status=status, heartbeat_at=heartbeat_at).update(
            status=PreviewRun.Status.RUNNING, started_at=now, heartbeat_at=now, done=0
        )
        if claimed:
            return PreviewRun.objects.get(pk=pk)


def covered_range(
    project_id: int, days: int, now: datetime, max_segments: int
) -> tuple[datetime, datetime]:
    """The last ``days`` days, moved forward when they hold more than ``max_segments`` segments:
    then the most recent ``max_segments`` are covered."""
    since, until = now - timedelta(days=days), now
    newest = (
        stored_segments(project_id, since, until)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
    )
    cut = newest[max_segments - 1 : max_segments].first()
    if cut is not None:
        since = cut
    return since, until


def preview_execute(
    run: PreviewRun,
    publish: Callable[[list], None] | None = None,
    now: datetime | None = None,
    alive: Callable[[], None] | None = None,
) -> PreviewRun:
    """Carry out a claimed run; its row says how far it is, then its result (or its error).
    ``alive`` is called with each progress written (the worker's healthcheck file: a run of
    minutes is not a hung worker while its segments keep coming)."""
    now = now or datetime.now(UTC)
    since, until = covered_range(
        run.project_id, run.days, now, settings.REPLAYS_PREVIEW_MAX_SEGMENTS
    )
    on_progress = _progress_writer(run, alive)
    try:
        if run.kind == PreviewRun.Kind.PREVIEW:
            current = load_detection_settings(run.project_id)
            draft = draft_settings(run.project_id, run.draft_settings)
            before, after = compare(
                run.project_id,
                current,
                draft,
                since=since,
                until=until,
                on_progress=on_progress,
                max_inflated_bytes=settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES,
            )
            run.result = comparison(
                run.project_id,
                before,
                after,
                noise=(
                    noise_threshold_for(run.project_id) or SHOW_AT_ONCE,
                    draft_noise_threshold(run.project_id, run.draft_settings),
                ),
                types=compared_types(current, draft),
            )
            covered = after
        else:
            if publish is None:
                raise RuntimeError("an apply run needs a publisher")
            covered = reprocess(
                run.project_id,
                load_detection_settings(run.project_id),
                since=since,
                until=until,
                publish=publish,
                on_progress=on_progress,
                max_inflated_bytes=settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES,
            )
            run.result = covered.as_json(run.project_id)
    except Exception as exc:
        logger.exception("%s failed", run)
        run.status, run.error = PreviewRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        run.status = PreviewRun.Status.DONE
        run.covered_since, run.covered_until = covered.first_received, covered.last_received
        run.done = run.total
    run.finished_at = datetime.now(UTC)
    run.save()
    return run


def progress_of(run: PreviewRun) -> dict[str, Any]:
    """What a run's page polls (the admin's and the app's): its status, as a value and as the
    page shows it, how far it is, and its error."""
    return {
        "status": run.status,
        "status_display": run.get_status_display(),
        "done": run.done,
        "total": run.total,
        "error": run.error,
    }


def _progress_writer(
    run: PreviewRun, alive: Callable[[], None] | None = None
) -> Callable[[Progress], None]:
    written = 0.0

    def write(progress: Progress) -> None:
        nonlocal written
        if time.monotonic() - written < PROGRESS_EVERY_S and progress.done not in (
            1,
            progress.total,
        ):
            return
        written = time.monotonic()
        run.done, run.total = progress.done, progress.total
        PreviewRun.objects.filter(pk=run.pk).update(
            done=progress.done, total=progress.total, heartbeat_at=datetime.now(UTC)
        )
        if alive is not None:
            alive()

    return write


def comparison(
    project_id: int,
    before: Summary,
    after: Summary,
    noise: tuple[NoiseThreshold, NoiseThreshold] = (SHOW_AT_ONCE, SHOW_AT_ONCE),
    types: tuple[str, ...] = PRODUCED_TYPES,
) -> dict[str, Any]:
    """What the page shows: occurrences per type before and after, the issues that would appear
    or stop getting occurrences, the elements that gain or lose the most.

    An issue would appear when the draft's occurrences of the range reach the draft's noise
    threshold (``noise``: the current settings', the draft's) and the current settings' would
    not reach the current one, unless it is shown already: an issue is shown once that many
    occurrences (or distinct users) were counted on it, so below it a new fingerprint makes no
    issue anyone sees. The creation quota is left out: it delays an issue, never keeps it out."""
    hashes = set(before.by_fingerprint) | set(after.by_fingerprint)
    issue_ids, shown = {}, set()
    for primary, issue_id, is_visible in IssueHash.objects.filter(
        project_id=project_id, hash__in=hashes
    ).values_list("hash", "issue_id", "issue__is_visible"):
        issue_ids[primary] = issue_id
        if is_visible:
            shown.add(primary)

    def issue(primary: str, count: int) -> dict[str, Any]:
        slug, title, culprit = (after.titles.get(primary) or before.titles[primary])[:3]
        return {
            "type": slug,
            "title": title,
            "culprit": culprit,
            "occurrences": count,
            "issue_id": issue_ids.get(primary),
        }

    current_noise, draft_noise = noise
    appear = Counter(
        {
            key: n
            for key, n in after.by_fingerprint.items()
            if key not in shown
            and reaches(after, key, draft_noise)
            and not reaches(before, key, current_noise)
        }
    )
    stop = Counter(
        {key: n for key, n in before.by_fingerprint.items() if key not in after.by_fingerprint}
    )
    change = Counter(after.by_element)
    change.subtract(before.by_element)

    def elements(items: list[tuple[tuple[str, str], int]]) -> list[dict[str, Any]]:
        return [
            {
                "type": slug,
                "selector": selector,
                "before": before.by_element.get((slug, selector), 0),
                "after": after.by_element.get((slug, selector), 0),
            }
            for (slug, selector), _ in items
        ]

    ranked = sorted(change.items(), key=lambda item: (-abs(item[1]), item[0]))
    return {
        "segments": after.segments,
        "replays": after.replays,
        "skipped": after.skipped,
        "types": [
            {"type": slug, "before": before.occurrences[slug], "after": after.occurrences[slug]}
            for slug in types
        ],
        "appear": [issue(key, n) for key, n in appear.most_common(TOP)],
        "appear_total": len(appear),
        "stop": [issue(key, n) for key, n in stop.most_common(TOP)],
        "stop_total": len(stop),
        "gained": elements([item for item in ranked if item[1] > 0][:TOP]),
        "lost": elements([item for item in ranked if item[1] < 0][:TOP]),
        "max_segments": settings.REPLAYS_PREVIEW_MAX_SEGMENTS,
    }


def reaches(summary: Summary, primary: str, noise: NoiseThreshold) -> bool:
    """Whether the fingerprint's occurrences in ``summary`` (and their distinct users) alone
    reach ``noise``: none never do."""
    return primary in summary.by_fingerprint and noise.reached(
        summary.by_fingerprint[primary], len(summary.users.get(primary, ()))
    )
