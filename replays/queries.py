"""Reads of the replays consumer: a project's detection settings, cached for a moment.

The consumer asks once per segment. Settings are kept per process for
``REPLAYS_SETTINGS_CACHE_TTL_S`` seconds, so an operator's change in the admin (another process)
reaches the next segments within that time, with no restart.
"""

from collections.abc import Iterable
from datetime import date

from django.db.models import Q, Sum

from ingest.models import Project
from issues.grouptypes import ERROR_CLICK, HYDRATION_ERROR
from pipeline.ttl_cache import TtlCache
from replays.detection.classify import ClickType, Thresholds
from replays.detection.detect import DetectionSettings
from replays.detection.ignore import parse_ignore_selectors
from replays.models import DetectionSettings as DetectionSettingsRow
from replays.models import ElementClicks, PageSessions, Replay

_cached: TtlCache[int, DetectionSettings | None] = TtlCache("REPLAYS_SETTINGS_CACHE_TTL_S")
forget_cached_settings = _cached.clear


def as_detection_settings(row: DetectionSettingsRow) -> DetectionSettings:
    """The pure core's view of the admin's row."""
    enabled = {
        ClickType.DEAD: row.dead_clicks_enabled,
        ClickType.RAGE: row.rage_clicks_enabled,
        ClickType.SLOW: row.slow_clicks_enabled,
        HYDRATION_ERROR.slug: row.hydration_errors_enabled,
        ERROR_CLICK.slug: row.error_clicks_enabled,
    }
    return DetectionSettings(
        enabled=frozenset(slug for slug, on in enabled.items() if on),
        sample_rates={
            ClickType.DEAD: row.dead_click_sample_rate,
            ClickType.RAGE: row.rage_click_sample_rate,
            ClickType.SLOW: row.slow_click_sample_rate,
            HYDRATION_ERROR.slug: row.hydration_error_sample_rate,
            ERROR_CLICK.slug: row.error_click_sample_rate,
        },
        thresholds=Thresholds(
            dead_click_ms=row.dead_click_ms,
            slow_click_ms=row.slow_click_ms,
            rage_click_count=row.rage_click_count,
            error_click_ms=row.error_click_ms,
        ),
        ignore=parse_ignore_selectors(row.ignore_selectors),
    )


def detection_settings_for(project_id: int) -> DetectionSettings | None:
    """The project's settings (its defaults until an operator changes them); None when there is
    no such project."""
    return _cached.get(project_id, _load_settings)


def may_edit_detection_settings(user, project_id: int) -> bool:
    """Whether ``user`` may change (and so preview) the project's detection settings: the
    permission to change settings, on a project of the user's organizations (any for a
    superuser)."""
    # Imported here: issues' reads import the issues stage, which reads this module's exposure
    # counts (issues.impact), so a module-level import would be circular.
    from issues.queries import projects_for

    return user.has_perm("replays.change_detectionsettings") and (
        projects_for(user).filter(pk=project_id).exists()
    )


def load_detection_settings(project_id: int) -> DetectionSettings | None:
    """The project's settings as they are in the database now (no cache)."""
    return _load_settings(project_id)


def _load_settings(project_id: int) -> DetectionSettings | None:
    row = DetectionSettingsRow.objects.filter(project_id=project_id).first()
    if row is None and Project.objects.filter(id=project_id).exists():
        row, _ = DetectionSettingsRow.objects.get_or_create(project_id=project_id)
    return as_detection_settings(row) if row is not None else None


def page_sessions(project_id: int, page_hash: str, first_day: date, last_day: date) -> int:
    """Sessions on a page from ``first_day`` to ``last_day`` (UTC days, both counted): a replay
    on the page on two of those days counts on each."""
    found = PageSessions.objects.filter(
        project_id=project_id, page_hash=page_hash, day__range=(first_day, last_day)
    ).aggregate(total=Sum("sessions"))
    return found["total"] or 0


def element_clicks(project_id: int, element_hash: str, first_day: date, last_day: date) -> int:
    """Clicks on an element from ``first_day`` to ``last_day`` (UTC days, both counted)."""
    found = ElementClicks.objects.filter(
        project_id=project_id, element_hash=element_hash, day__range=(first_day, last_day)
    ).aggregate(total=Sum("clicks"))
    return found["total"] or 0


def replay_pks_of(replays: Iterable[tuple[int, str]]) -> list[int]:
    """The primary keys of the replays stored of these (project id, replay id), in one query."""
    keys = Q(pk__in=[])
    for project_id, replay_id in replays:
        keys |= Q(project_id=project_id, replay_id=replay_id)
    return list(Replay.objects.filter(keys).values_list("pk", flat=True))
