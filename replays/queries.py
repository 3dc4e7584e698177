"""Reads of the replays consumer: a project's detection settings, cached for a moment.

The consumer asks once per segment. Settings are kept per process for
``REPLAYS_SETTINGS_CACHE_TTL_S`` seconds, so an operator's change in the admin (another process)
reaches the next segments within that time, with no restart.
"""

from collections.abc import Iterable
from datetime import date

from django.db import connection
from django.db.models import Model, Q

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


# (project id, key, first day, last day): a key's counts over a range of UTC days, both counted.
DaysKey = tuple[int, str, date, date]


def pages_sessions(keys: Iterable[DaysKey]) -> dict[DaysKey, int]:
    """Sessions on each key's page over its days (project id, page hash, first day, last day;
    UTC days, both counted), in one query: a replay on the page on two of those days counts on
    each."""
    return _sums_over_days(PageSessions, "page_hash", "sessions", keys)


def elements_clicks(keys: Iterable[DaysKey]) -> dict[DaysKey, int]:
    """Clicks on each key's element over its days (project id, element hash, first day, last
    day; UTC days, both counted), in one query."""
    return _sums_over_days(ElementClicks, "element_hash", "clicks", keys)


def _sums_over_days(
    model: type[Model], key_field: str, summed: str, keys: Iterable[DaysKey]
) -> dict[DaysKey, int]:
    """The sum of ``summed`` over the daily rows of each key's range (0 without rows): the keys
    are a list of values joined to the rows by their unique (project, key, day) index, so the
    issues consumer's batch asks once for all its issues instead of once per issue."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    project, key, day, value = (
        quote(meta.get_field(name).column) for name in ("project", key_field, "day", summed)
    )
    day_param = "CAST(%s AS DATE)" if connection.vendor == "postgresql" else "%s"
    rows = ", ".join([f"(%s, %s, %s, {day_param}, {day_param})"] * len(wanted))
    statement = (
        f"WITH wanted (n, project_id, key, first_day, last_day) AS (VALUES {rows}) "
        f"SELECT wanted.n, SUM(counted.{value}) FROM wanted JOIN {table} counted "
        f"ON counted.{project} = wanted.project_id AND counted.{key} = wanted.key "
        f"AND counted.{day} BETWEEN wanted.first_day AND wanted.last_day GROUP BY wanted.n"
    )
    params: list[object] = []
    for n, (project_id, key_value, first_day, last_day) in enumerate(wanted):
        params += [
            n,
            project_id,
            key_value,
            connection.ops.adapt_datefield_value(first_day),
            connection.ops.adapt_datefield_value(last_day),
        ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        sums = dict(cursor.fetchall())
    return {each: int(sums.get(n) or 0) for n, each in enumerate(wanted)}


def replay_pks_of(replays: Iterable[tuple[int, str]]) -> list[int]:
    """The primary keys of the replays stored of these (project id, replay id), in one query."""
    keys = Q(pk__in=[])
    for project_id, replay_id in replays:
        keys |= Q(project_id=project_id, replay_id=replay_id)
    return list(Replay.objects.filter(keys).values_list("pk", flat=True))
