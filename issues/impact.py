"""Writes of the issues stage that keep each issue's likely cause and impact figures, in the
grouping transaction (``issues.services._record`` calls ``issues_keep_causes_and_impact``).

They are stored on the issue rather than computed when read, so the issue list shows and sorts by
them as columns (``impact`` has its index). The cause counts move when an occurrence is revised
(a later segment changed its window). The impact figures are refreshed each time the issue counts
an occurrence: its period is its first to its last day, so the sessions on its page and the clicks
on its element *in that period* are, at its last occurrence, nearly all counted already (the
replays consumer counts a segment's exposure before it publishes the segment's occurrences).
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection

from issues.causes import Cause, cause_of, likely_cause, share
from issues.models import Issue, IssueCause, Occurrence
from replays.detection.exposure import element_key_of_fingerprint, page_key
from replays.queries import DaysKey, elements_clicks, pages_sessions


@dataclass(frozen=True, slots=True)
class Revision:
    """A stored occurrence of ``issue_id`` whose evidence a later version replaced."""

    issue_id: int
    before: Cause | None
    after: Cause | None


CauseKey = tuple[int, str, str]  # (issue id, kind, detail)


def issues_keep_causes_and_impact(
    new: Sequence[Occurrence], revisions: Sequence[Revision], counted: Mapping[int, Issue]
) -> None:
    """Count the causes of the batch's ``new`` occurrences (not inserted yet) and move those of
    ``revisions``; then store the likely cause of every issue whose counts changed, and the
    distinct replays and impact figures of the issues that counted occurrences (``counted``,
    their counters already up to date in memory)."""
    deltas: Counter[CauseKey] = Counter()
    for occurrence in new:
        if cause := cause_of(occurrence.evidence):
            deltas[(occurrence.issue_id, *cause)] += 1
    for revision in revisions:
        if revision.before == revision.after:
            continue
        if revision.before:
            deltas[(revision.issue_id, *revision.before)] -= 1
        if revision.after:
            deltas[(revision.issue_id, *revision.after)] += 1
    _add_causes({key: count for key, count in deltas.items() if count})
    revised = {revision.issue_id for revision in revisions if revision.before != revision.after}
    causes = _likely_causes(counted, revised - set(counted))
    added = _new_replays(new)
    figures = _figures(counted, added)
    _update(
        FIGURE_FIELDS,
        [[causes.get(issue_id), *values, issue_id] for issue_id, values in sorted(figures.items())],
    )
    _update(
        ("likely_cause",),
        [[causes.get(issue_id), issue_id] for issue_id in sorted(revised - set(counted))],
    )


FIGURE_FIELDS = ("likely_cause", "replays_seen", "page_sessions", "element_clicks", "impact")


def _update(names: Sequence[str], rows: Sequence[list]) -> None:
    """Set the fields ``names`` of issues: each row holds their values, then the issue's id. One
    UPDATE statement run with each row's values (as ``issues.services._save_counts``)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [Issue._meta.get_field(name) for name in names]
    statement = (
        f"UPDATE {quote(Issue._meta.db_table)} SET "
        + ", ".join(f"{quote(field.column)} = %s" for field in fields)
        + f" WHERE {quote(Issue._meta.pk.column)} = %s"
    )
    prepared = [
        [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, row[:-1], strict=True)
        ]
        + row[-1:]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, prepared)


def _add_causes(deltas: Mapping[CauseKey, int]) -> None:
    """Add to the issues' cause counts: an insert, or an increment of the row that exists (in
    one key order, so consumers side by side do not wait in a circle)."""
    if not deltas:
        return
    quote = connection.ops.quote_name
    meta = IssueCause._meta
    columns = [quote(meta.get_field(name).column) for name in ("issue", "kind", "detail", "count")]
    table, count = quote(meta.db_table), columns[-1]
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES (%s, %s, %s, %s) "
        f"ON CONFLICT ({', '.join(columns[:3])}) "
        f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(statement, [[*key, delta] for key, delta in sorted(deltas.items())])


def _likely_causes(counted: Mapping[int, Issue], revised: set[int]) -> dict[int, dict | None]:
    """The likely cause of each of ``counted`` and ``revised`` (issue ids) from its counts."""
    issue_ids = set(counted) | revised
    if not issue_ids:
        return {}
    times_seen = {issue_id: issue.times_seen for issue_id, issue in counted.items()}
    if revised:
        times_seen.update(Issue.objects.filter(pk__in=revised).values_list("pk", "times_seen"))
    rows: dict[int, list[tuple[str, str, int]]] = {}
    for issue_id, kind, detail, count in IssueCause.objects.filter(
        issue__in=issue_ids, count__gt=0
    ).values_list("issue_id", "kind", "detail", "count"):
        rows.setdefault(issue_id, []).append((kind, detail, count))
    return {
        issue_id: likely_cause(rows.get(issue_id, ()), times_seen.get(issue_id, 0))
        for issue_id in issue_ids
    }


def _new_replays(new: Iterable[Occurrence]) -> Counter[int]:
    """How many replays each issue gets for the first time from ``new`` occurrences."""
    pairs = {
        (occurrence.issue_id, occurrence.replay_id) for occurrence in new if occurrence.replay_id
    }
    if not pairs:
        return Counter()
    known = set(
        Occurrence.objects.filter(
            issue__in={issue_id for issue_id, _ in pairs},
            replay_id__in={replay_id for _, replay_id in pairs},
        ).values_list("issue_id", "replay_id")
    )
    return Counter(issue_id for issue_id, replay_id in pairs if (issue_id, replay_id) not in known)


def _figures(
    counted: Mapping[int, Issue], added: Mapping[int, int]
) -> dict[int, tuple[int, int | None, int | None, float]]:
    """(replays seen, page sessions, element clicks, impact) of each counted issue: the
    sessions and clicks of all of them read in one query each."""
    if not counted:
        return {}
    rows = Issue.objects.filter(pk__in=list(counted)).values_list(
        "pk", "metadata__url", "fingerprint", "replays_seen"
    )
    pages: dict[int, DaysKey] = {}
    elements: dict[int, DaysKey] = {}
    replays: dict[int, int] = {}
    for issue_id, url, fingerprint, replays_seen in rows:
        issue = counted[issue_id]
        first_day, last_day = _day(issue.first_seen), _day(issue.last_seen)
        replays[issue_id] = replays_seen + added.get(issue_id, 0)
        if isinstance(url, str) and url:
            page_hash, _ = page_key(url)
            pages[issue_id] = (issue.project_id, page_hash, first_day, last_day)
        element_hash = element_key_of_fingerprint(
            fingerprint if isinstance(fingerprint, list) else []
        )
        if element_hash:
            elements[issue_id] = (issue.project_id, element_hash, first_day, last_day)
    sessions = pages_sessions(pages.values())
    clicks = elements_clicks(elements.values())
    figures = {}
    for issue_id, replays_seen in replays.items():
        page = sessions[pages[issue_id]] if issue_id in pages else None
        element = clicks[elements[issue_id]] if issue_id in elements else None
        figures[issue_id] = (replays_seen, page, element, share(replays_seen, page) or 0.0)
    return figures


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def impact_of(issue: Issue) -> dict | None:
    """The issue's impact as the API and the page give it, or None when nothing was counted."""
    if issue.page_sessions is None and issue.element_clicks is None:
        return None
    return {
        "page_sessions": issue.page_sessions,
        "page_share": share(issue.replays_seen, issue.page_sessions),
        "element_clicks": issue.element_clicks,
        "element_share": share(issue.times_seen, issue.element_clicks),
    }
