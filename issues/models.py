"""Issues grouped from occurrences, the occurrences themselves, and who was affected.

An issue is found by any of its hashes (``IssueHash``: one per fingerprint string that made or
joined it; ``fingerprint_hash`` is the primary one, unique per project); its counters are kept by
``issues.services.issue_record_occurrence`` under a row lock, so consumers running side by side
count each occurrence once.
"""

from datetime import datetime

from django.db import connection, models
from django.utils import timezone

from ingest.models import Project
from issues.grouptypes import all_group_types

# The ``type`` column's choices: every type of the registry (``issues.grouptypes``), by slug,
# named without the ``replay_`` prefix (``IssueType.DEAD_CLICK == "replay_dead_click"``). A new
# type needs no change here; its migration only restates the choices.
IssueType = models.TextChoices(
    "IssueType",
    [
        (group_type.slug.removeprefix("replay_").upper(), (group_type.slug, group_type.label))
        for group_type in all_group_types()
    ],
)


class IssueStatus(models.TextChoices):
    UNRESOLVED = "unresolved", "Unresolved"
    RESOLVED = "resolved", "Resolved"
    IGNORED = "ignored", "Ignored"


class Issue(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="issues")
    fingerprint_hash = models.CharField(max_length=32, help_text="MD5 of the fingerprint.")
    fingerprint = models.JSONField(default=list)
    type = models.CharField(max_length=32, choices=IssueType.choices)
    title = models.CharField(max_length=200)
    subtitle = models.CharField(max_length=1024, blank=True)
    culprit = models.CharField(max_length=200, blank=True)
    level = models.CharField(max_length=16, default="warning")
    status = models.CharField(
        max_length=16, choices=IssueStatus.choices, default=IssueStatus.UNRESOLVED
    )
    selector = models.CharField(
        max_length=1024,
        blank=True,
        help_text="The element, for the types with one (the click types: also in metadata); "
        "blank otherwise. Indexed for the elements page and ignore rules.",
    )
    metadata = models.JSONField(
        default=dict,
        blank=True,
        help_text="The first occurrence's selector, url, route, component, tag, text, attributes.",
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    times_seen = models.PositiveIntegerField(default=0)
    users_seen = models.PositiveIntegerField(default=0)
    short_number = models.PositiveIntegerField(
        null=True,
        editable=False,
        help_text="The issue's number in its project, from 1: the 12 of its short id SHOP-12.",
    )
    is_visible = models.BooleanField(
        default=True,
        help_text="False while the project's noise threshold holds the issue back.",
    )
    shown_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the issue is shown: when it passed the noise threshold, or later when "
        "the project's creation quota holds it back until then (held by the quota while this "
        "is in the future). Empty for an issue shown before the quota existed.",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    regressed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a new occurrence reopened it after a resolve."
    )
    # "Ignore until…" (Sentry's archive): an ignored issue returns to unresolved when one of
    # these is met; none set is ignored for good. ``ignore_times_seen`` and ``ignore_users_seen``
    # are the counters when it was ignored, so "N more" counts from there.
    ignore_until = models.DateTimeField(
        null=True, blank=True, help_text="Ignored until then, then unresolved again."
    )
    ignore_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Ignored until this many more occurrences."
    )
    ignore_user_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Ignored until this many more distinct users."
    )
    ignore_times_seen = models.PositiveIntegerField(default=0, editable=False)
    ignore_users_seen = models.PositiveIntegerField(default=0, editable=False)
    resolved_in_release = models.CharField(
        max_length=200,
        blank=True,
        help_text="Resolved in the next release: the project's newest release when it was "
        "resolved. A click from a newer release reopens it; one from this release does not.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept at write time by the issues stage (``issues.services``), so the list reads and sorts
    # them as columns.
    likely_cause = models.JSONField(
        null=True,
        blank=True,
        help_text="The most common cause kind of its occurrences: kind, detail, share, count, "
        "of (``issues.causes.likely_cause``); empty when none has a cause.",
    )
    replays_seen = models.PositiveIntegerField(
        default=0, help_text="Distinct replays (sessions) that hit it."
    )
    page_sessions = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Sessions on its page from its first to its last day, as of its last occurrence.",
    )
    element_clicks = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Clicks on its element from its first to its last day, as of its last "
        "occurrence (empty for an issue of no element).",
    )
    impact = models.FloatField(
        default=0.0,
        help_text="The share of the sessions on its page that hit it (0..1): the list's sort.",
    )

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["project", "fingerprint_hash"], name="unique_issue"),
            models.UniqueConstraint(
                fields=["project", "short_number"], name="unique_issue_short_number"
            ),
        ]
        indexes = [
            # The list's sorts (``issues.filters.SORTS``), each with its columns to the id: a
            # page is the top of one, and a page after a cursor one range of it, whatever the
            # ties (issue 23: ``issues.cursors``).
            models.Index(
                fields=["project", "is_visible", "-last_seen", "-id"], name="issue_last_seen_idx"
            ),
            models.Index(
                fields=["project", "is_visible", "-times_seen", "-last_seen", "-id"],
                name="issue_times_seen_idx",
            ),
            models.Index(
                fields=["project", "is_visible", "-users_seen", "-last_seen", "-id"],
                name="issue_users_seen_idx",
            ),
            models.Index(fields=["project", "selector"]),
            models.Index(fields=["project", "-shown_at"]),
            models.Index(
                fields=["project", "is_visible", "-impact", "-last_seen", "-id"],
                name="issue_impact_idx",
            ),
            models.Index(
                fields=["project", "is_visible", "-first_seen", "-id"], name="issue_first_seen_idx"
            ),
            # The issues not unresolved (the fewer), by status: the status tabs' counts under a
            # filter find a status's issues without reading every issue (issue 23).
            models.Index(
                fields=["project", "status"],
                condition=~models.Q(status="unresolved"),
                name="issue_settled_status_idx",
            ),
            # The issues ignored until a time (few): every list wakes those whose time passed.
            models.Index(
                fields=["project", "ignore_until"],
                condition=models.Q(status="ignored", ignore_until__isnull=False),
                name="issue_ignored_until_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}: {self.subtitle}"

    def save(self, *args, **kwargs) -> None:
        """An issue made outside the issues stage (a script, a test) is numbered too; the stage
        numbers its new issues a batch at a time (``issues.services``)."""
        if self._state.adding and self.short_number is None:
            self.short_number = allocate_short_numbers(self.project_id, 1).start
        super().save(*args, **kwargs)

    @property
    def short_id(self) -> str:
        """``SHOP-12``: the project's slug, upper case, and the issue's number in the project.
        Counted per project, it tells nothing of other organizations' issues (a ``CLICK-<pk>``
        of the whole table did)."""
        return short_id_of(self.project.slug, self.short_number, self.pk)

    def held_by(self, now: datetime | None = None) -> str:
        """What keeps the issue from being shown: "noise", "quota" or "" (shown)."""
        if not self.is_visible:
            return "noise"
        if self.shown_at is not None and self.shown_at > (now or timezone.now()):
            return "quota"
        return ""


def short_id_of(slug: str, short_number: int | None, pk: int | None) -> str:
    """An issue's short id; an issue not numbered yet keeps the old form by primary key."""
    if short_number is None:
        return f"CLICK-{pk}"
    return f"{slug.upper()}-{short_number}"


def allocate_short_numbers(project_id: int, count: int) -> range:
    """The next ``count`` issue numbers of the project, taken from its counter in one UPDATE.

    The UPDATE holds the project's row lock until the transaction ends (PostgreSQL; SQLite has
    one writer at a time), so consumers side by side never take the same number, and the
    creation quota's count is read by one of them at a time. ``count`` 0 only takes the lock.
    """
    quote = connection.ops.quote_name
    table = quote(Project._meta.db_table)
    counter = quote(Project._meta.get_field("issue_counter").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {counter} = {counter} + %s "
            f"WHERE {quote(Project._meta.pk.column)} = %s RETURNING {counter}",
            [count, project_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Project.DoesNotExist(f"project {project_id} does not exist")
    return range(row[0] - count + 1, row[0] + 1)


class Occurrence(models.Model):
    """One click in one replay; ``occurrence_id`` is the producer's deterministic id."""

    occurrence_id = models.CharField(max_length=32, unique=True)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="occurrences")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="occurrences")
    event_id = models.CharField(max_length=32, blank=True)
    replay_id = models.UUIDField(null=True, blank=True)
    segment_id = models.PositiveIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField(help_text="When the user clicked.")
    received_at = models.DateTimeField(auto_now_add=True)
    user_key = models.CharField(max_length=200, blank=True)
    user_id = models.CharField(max_length=200, blank=True)
    user_email = models.CharField(max_length=200, blank=True)
    user_name = models.CharField(max_length=200, blank=True)
    user_ip = models.CharField(max_length=64, blank=True)
    release = models.CharField(max_length=200, blank=True)
    environment = models.CharField(max_length=200, blank=True)
    browser = models.CharField(max_length=200, blank=True)
    browser_version = models.CharField(max_length=64, blank=True)
    os = models.CharField(max_length=200, blank=True)
    os_version = models.CharField(max_length=64, blank=True)
    device = models.CharField(max_length=200, blank=True)
    url = models.CharField(max_length=2048, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    evidence_display = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-timestamp"]
        indexes = [
            models.Index(fields=["issue", "-timestamp"]),
            models.Index(fields=["project", "replay_id"]),
            models.Index(fields=["issue", "environment"]),
            models.Index(fields=["issue", "release"]),
            models.Index(fields=["issue", "browser"]),
        ]

    def __str__(self) -> str:
        return self.occurrence_id


class IssueHash(models.Model):
    """One hash that groups occurrences into ``issue`` (Sentry's ``GroupHash``): an issue has its
    primary ``fingerprint_hash`` and every other hash of the fingerprints that made or joined it
    (a version 2 fingerprint's, added to an issue made by version 1)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="issue_hashes")
    hash = models.CharField(max_length=32, help_text="MD5 of one fingerprint string.")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="hashes")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "hash"], name="unique_issue_hash")
        ]

    def __str__(self) -> str:
        return self.hash


class IssueUser(models.Model):
    """One distinct user of an issue: ``users_seen`` grows only when a row is added."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="users")
    user_key = models.CharField(max_length=200)
    first_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "user_key"], name="unique_issue_user")
        ]

    def __str__(self) -> str:
        return self.user_key


class IssueCause(models.Model):
    """How many of an issue's occurrences had one cause (kind and detail): what its
    ``likely_cause`` is chosen from. A revised occurrence moves its count (``issues.services``)."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="causes")
    kind = models.CharField(max_length=32)
    detail = models.CharField(max_length=200, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "kind", "detail"], name="unique_issue_cause")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail} ({self.count})"


# --- Aggregates kept at write time (issue 23) ----------------------------------------------------
# Written by ``issues.aggregates`` in the issues consumer's transaction, so they are exactly as
# right as the issue's counters; the pages read them instead of grouping the whole history of
# occurrences. ``manage.py check_aggregates`` recomputes them from the occurrences.


class IssueDayCount(models.Model):
    """An issue's occurrences on one UTC day (the trends, and counts over a time range)."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="day_counts")
    day = models.DateField()
    times = models.PositiveIntegerField(default=0)
    new_users = models.PositiveIntegerField(
        default=0,
        help_text="Users the issue counted for the first time with an occurrence of this day.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "day"], name="unique_issue_day_count")
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.day}: {self.times}"


class IssueValueCount(models.Model):
    """How many of an issue's occurrences have one value of one field (the breakdowns)."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="value_counts")
    field = models.CharField(max_length=16, help_text="page, browser, os, release, environment.")
    value = models.CharField(max_length=1024, blank=True)
    times = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "field", "value"], name="unique_issue_value_count"
            )
        ]
        indexes = [
            models.Index(fields=["issue", "field", "-times"]),
            # The list's environment/release/browser filter: the issues with that value are one
            # index range, joined to the list, instead of a probe of every issue (issue 23).
            models.Index(
                fields=["field", "value", "issue"],
                condition=models.Q(times__gt=0),
                name="issue_value_filter_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.field}={self.value}: {self.times}"


class ProjectFilterValue(models.Model):
    """A value that the project's occurrences have had in a filterable field (the issue list's
    menus), with when it was last seen so that the menus list the recent ones first, and first
    seen (a release's place in the project's order of releases)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="filter_values")
    field = models.CharField(max_length=16, help_text="environment, release, browser.")
    value = models.CharField(max_length=200)
    last_seen = models.DateTimeField()
    first_seen = models.DateTimeField(
        help_text="The earliest occurrence with this value: the order of the project's releases "
        "(resolved in the next release)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "field", "value"], name="unique_project_filter_value"
            )
        ]
        indexes = [models.Index(fields=["project", "field", "-last_seen"])]

    def __str__(self) -> str:
        return f"{self.project_id} {self.field}={self.value}"


class ProjectStatusCount(models.Model):
    """How many of the project's issues past the noise threshold have one status (the status
    tabs, the projects' open issue counts). Issues held back by the creation quota count here;
    the reads subtract them (few, and found by an index)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="status_counts")
    status = models.CharField(max_length=16, choices=IssueStatus.choices)
    issues = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "status"], name="unique_project_status")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.status}: {self.issues}"


class ActivityKind(models.TextChoices):
    STATUS = "status", "Status changed"
    REGRESSION = "regression", "Regression"
    UNIGNORED = "unignored", "Ignore condition met"


class IssueActivity(models.Model):
    """What happened to an issue, for its page's activity list: a status change (who, from,
    to), a regression, an ignore that ran out. Written by the services that make the change;
    the alerts sent are read from the alerts app's deliveries and folded in when shown."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    user = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    data = models.JSONField(
        default=dict, blank=True, help_text="The change's details: ignore until, release…"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["issue", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.kind} {self.from_status}→{self.to_status}"


class ElementCount(models.Model):
    """One element's clicks of one type over all time (the elements page at any time): the
    element is the grouping's identity, the issue's selector. Every issue counts, shown or
    not; the reads subtract the issues not shown now (the noise threshold, the creation
    quota), found by an index."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="element_counts")
    selector = models.CharField(max_length=1024)
    type = models.CharField(max_length=32, choices=IssueType.choices)
    times = models.PositiveIntegerField(default=0)
    issues = models.PositiveIntegerField(default=0, help_text="Its issues of this type.")
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "selector", "type"], name="unique_element_count"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.selector} {self.type}: {self.times}"


class ElementDayCount(models.Model):
    """One element's clicks of one type on one UTC day (the elements page over a time range)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="element_day_counts"
    )
    day = models.DateField()
    selector = models.CharField(max_length=1024)
    type = models.CharField(max_length=32, choices=IssueType.choices)
    times = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "day", "selector", "type"], name="unique_element_day_count"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.day} {self.selector} {self.type}: {self.times}"


class ElementWeekCount(models.Model):
    """One element's clicks in one UTC week, Monday to Sunday, one row for its types (the
    elements page over a time range: its whole weeks from here, at most three days from
    ``ElementDayCount``), so a 30-day range groups about five rows an element rather than thirty
    rows a type. ``total`` counts every type, as the page's total does."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="element_week_counts"
    )
    week = models.DateField(help_text="The week's Monday (UTC).")
    selector = models.CharField(max_length=1024)
    dead = models.PositiveIntegerField(default=0)
    rage = models.PositiveIntegerField(default=0)
    slow = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "week", "selector"], name="unique_element_week_count"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id} week of {self.week} {self.selector}: {self.total}"
