"""Stored replays, their segments, and each project's detection settings."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ingest.models import Project
from issues.grouptypes import ERROR_CLICK, HYDRATION_ERROR
from replays.detection.classify import (
    DEFAULT_DEAD_CLICK_MS,
    DEFAULT_ERROR_CLICK_MS,
    DEFAULT_RAGE_CLICK_COUNT,
    DEFAULT_SLOW_CLICK_MS,
)

# Sentry's own creation quota: 5 new issues per project per hour.
DEFAULT_ISSUE_QUOTA = 5
DEFAULT_ISSUE_QUOTA_WINDOW_S = 3600

RATE_VALIDATORS = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class Replay(models.Model):
    """One replay (a user's session), merged from the replay_event of each of its segments."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="replays")
    replay_id = models.UUIDField()
    started_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    segment_count = models.PositiveIntegerField(default=0)
    urls = models.JSONField(default=list, blank=True)
    user_id = models.CharField(max_length=200, blank=True)
    user_email = models.CharField(max_length=200, blank=True)
    user_name = models.CharField(max_length=200, blank=True)
    user_ip = models.CharField(max_length=64, blank=True)
    browser = models.CharField(max_length=200, blank=True)
    browser_version = models.CharField(max_length=64, blank=True)
    os = models.CharField(max_length=200, blank=True)
    os_version = models.CharField(max_length=64, blank=True)
    device = models.CharField(max_length=200, blank=True)
    release = models.CharField(max_length=200, blank=True)
    environment = models.CharField(max_length=200, blank=True)
    platform = models.CharField(max_length=64, blank=True)
    sdk_name = models.CharField(max_length=200, blank=True)
    sdk_version = models.CharField(max_length=64, blank=True)
    replay_type = models.CharField(max_length=32, blank=True)
    error_ids = models.JSONField(default=list, blank=True)
    trace_ids = models.JSONField(default=list, blank=True)
    dead_clicks = models.PositiveIntegerField(default=0)
    rage_clicks = models.PositiveIntegerField(default=0)
    slow_clicks = models.PositiveIntegerField(default=0)
    multi_clicks = models.PositiveIntegerField(default=0)
    hydration_errors = models.PositiveIntegerField(default=0)
    retention_days = models.PositiveIntegerField(default=90)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "replay_id"], name="unique_replay")
        ]
        indexes = [models.Index(fields=["project", "-last_seen_at"])]

    def __str__(self) -> str:
        return self.replay_id.hex


class ReplaySegment(models.Model):
    """One recording segment. The rrweb events are a zlib file in the ``recordings`` storage."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="segments")
    segment_id = models.PositiveIntegerField()
    recording = models.CharField(
        max_length=255, help_text="The file's name in the recordings storage."
    )
    compressed_size = models.PositiveIntegerField(help_text="Bytes stored (zlib).")
    size = models.PositiveIntegerField(help_text="Bytes of rrweb JSON once inflated.")
    timestamp = models.DateTimeField(
        null=True, blank=True, help_text="When the SDK sent it (replay_event.timestamp)."
    )
    received_at = models.DateTimeField(help_text="When ingest accepted it.")
    replay_event = models.JSONField(
        null=True,
        blank=True,
        help_text="The segment's parsed replay_event, as detection read it: what reprocessing "
        "reads back. Empty on segments stored before it was kept (their replay's merged fields "
        "stand in).",
    )
    dead_clicks = models.PositiveIntegerField(default=0)
    rage_clicks = models.PositiveIntegerField(default=0)
    slow_clicks = models.PositiveIntegerField(default=0)
    multi_clicks = models.PositiveIntegerField(default=0)
    hydration_errors = models.PositiveIntegerField(default=0)
    occurrences_published = models.BooleanField(
        default=False,
        help_text="Its occurrences reached the broker: a re-delivered segment does not send them "
        "again.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["replay", "segment_id"]
        constraints = [
            models.UniqueConstraint(fields=["replay", "segment_id"], name="unique_replay_segment")
        ]

    def __str__(self) -> str:
        return f"{self.replay} #{self.segment_id}"


class DetectionSettings(models.Model):
    """What a project raises as issues; the consumers read changes within a second or so."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="detection_settings"
    )
    dead_clicks_enabled = models.BooleanField("dead clicks", default=True)
    rage_clicks_enabled = models.BooleanField("rage clicks", default=True)
    slow_clicks_enabled = models.BooleanField("slow clicks", default=True)
    hydration_errors_enabled = models.BooleanField(
        "hydration errors", default=HYDRATION_ERROR.enabled_by_default
    )
    dead_click_sample_rate = models.FloatField(default=1.0, validators=RATE_VALIDATORS)
    rage_click_sample_rate = models.FloatField(default=1.0, validators=RATE_VALIDATORS)
    slow_click_sample_rate = models.FloatField(default=1.0, validators=RATE_VALIDATORS)
    hydration_error_sample_rate = models.FloatField(default=1.0, validators=RATE_VALIDATORS)
    error_clicks_enabled = models.BooleanField(
        "error clicks", default=ERROR_CLICK.enabled_by_default
    )
    error_click_sample_rate = models.FloatField(default=1.0, validators=RATE_VALIDATORS)
    dead_click_ms = models.PositiveIntegerField(
        default=DEFAULT_DEAD_CLICK_MS,
        help_text="A click with no answer for this long is dead (the SDK waits 7000 ms at most).",
    )
    slow_click_ms = models.PositiveIntegerField(
        default=DEFAULT_SLOW_CLICK_MS,
        help_text="A click answered after this long is slow (the SDK reports from 3000 ms).",
    )
    rage_click_count = models.PositiveIntegerField(
        default=DEFAULT_RAGE_CLICK_COUNT,
        validators=[MinValueValidator(1)],
        help_text="A dead click clicked this many times or more is a rage click.",
    )
    error_click_ms = models.PositiveIntegerField(
        default=DEFAULT_ERROR_CLICK_MS,
        validators=[MinValueValidator(1)],
        help_text="A click followed this soon by an error (an error event or a console error of "
        "the replay) is an error click.",
    )
    ignore_selectors = models.TextField(
        blank=True,
        help_text=(
            "One CSS selector per line (#id, .class, tag, [attr=value], nav > a): clicks on "
            "matching elements raise no issue."
        ),
    )
    noise_threshold = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="An issue shows once it has this many occurrences (1: from the first).",
    )
    noise_threshold_users = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="... or once this many distinct users hit it (empty: occurrences only).",
    )
    issue_quota = models.PositiveIntegerField(
        "new issues per window",
        null=True,
        blank=True,
        default=DEFAULT_ISSUE_QUOTA,
        validators=[MinValueValidator(1)],
        help_text="At most this many new issues are shown per window; the next ones are held "
        "back (their occurrences counted) and shown as the window frees up. Empty: no quota.",
    )
    issue_quota_window_s = models.PositiveIntegerField(
        "quota window (s)",
        default=DEFAULT_ISSUE_QUOTA_WINDOW_S,
        validators=[MinValueValidator(1)],
        help_text="The quota's window, in seconds (a sliding window).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "detection settings"

    def __str__(self) -> str:
        return f"detection settings of {self.project}"


class PreviewRun(models.Model):
    """Detection run again over a project's stored segments, in the background (``run_previews``):
    a preview compares the current settings with a draft and publishes nothing; an apply run
    publishes what the saved settings find (as ``reprocess_replays``)."""

    class Kind(models.TextChoices):
        PREVIEW = "preview"
        APPLY = "apply"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="preview_runs")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PREVIEW)
    requested_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    draft_settings = models.JSONField(
        default=dict, blank=True, help_text="The draft's fields (a preview), as the form had them."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    covered_since = models.DateTimeField(null=True, blank=True)
    covered_until = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last sign of life of the worker running it: a run silent for long is taken "
        "over by another worker (its own died).",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} of {self.project} over {self.days} day(s)"


class PageSessions(models.Model):
    """How many sessions (replays) visited a page of a project on a day: the denominator of an
    issue's "12% of sessions on /cart". Counted once per replay, page and day (``PageVisit``)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    page_hash = models.CharField(max_length=32, help_text="MD5 of the page.")
    page = models.CharField(max_length=2048, help_text="The path, ids folded as grouping does.")
    day = models.DateField()
    sessions = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "page sessions"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "page_hash", "day"], name="unique_page_sessions"
            )
        ]

    def __str__(self) -> str:
        return f"{self.page} {self.day}: {self.sessions}"


class PageVisit(models.Model):
    """A replay was on a page that day: counted in ``PageSessions`` once, whatever the number
    of its segments or deliveries."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="+")
    page_hash = models.CharField(max_length=32)
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["replay", "page_hash", "day"], name="unique_page_visit")
        ]

    def __str__(self) -> str:
        return f"{self.replay_id} {self.page_hash} {self.day}"


class ElementClicks(models.Model):
    """How many clicks (``ui.click`` breadcrumbs) an element of a project got on a day: the
    denominator of "31% of clicks on this button are dead". Counted once per new segment."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    element_hash = models.CharField(
        max_length=32, help_text="MD5 of the element as its version 2 fingerprint names it."
    )
    day = models.DateField()
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "element clicks"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "element_hash", "day"], name="unique_element_clicks"
            )
        ]

    def __str__(self) -> str:
        return f"{self.element_hash} {self.day}: {self.clicks}"


class ReplayTimelineEntry(models.Model):
    """One request, console error, navigation or click of a replay, as its segment recorded it
    (replays.detection.timeline): what a click's window is read from, whichever segment brought
    the click or the entry. One row per (segment, index): a re-delivered segment adds nothing."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="timeline")
    segment_id = models.PositiveIntegerField()
    index = models.PositiveIntegerField(help_text="Its place among the segment's entries.")
    kind = models.CharField(max_length=16)
    start = models.FloatField(help_text="Seconds since the epoch.")
    end = models.FloatField(null=True, blank=True, help_text="A request's end, if it ended.")
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["replay", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["replay", "segment_id", "index"], name="unique_replay_timeline_entry"
            )
        ]
        indexes = [models.Index(fields=["replay", "start"])]

    def __str__(self) -> str:
        return f"{self.replay} #{self.segment_id}.{self.index} {self.kind}"


class ReplayClickWindow(models.Model):
    """A click occurrence this replay published, with its window's evidence: when a later
    segment brings an entry inside the window (a request's span arrives once it ended), the
    occurrence is built again with the same id and published again (``published`` false until
    the broker has the new version). At most ``MAX_CLICK_WINDOWS_PER_REPLAY`` per replay."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="click_windows")
    occurrence_id = models.CharField(max_length=32)
    start = models.FloatField(help_text="The click, in seconds since the epoch.")
    end = models.FloatField(help_text="The end of the SDK's wait.")
    occurrence = models.JSONField(help_text="The occurrence as last built (ingest-occurrences).")
    revision = models.PositiveIntegerField(help_text="evidence_data.revision of that build.")
    version = models.PositiveIntegerField(default=1, help_text="Counts the builds.")
    published = models.BooleanField(default=False)

    class Meta:
        ordering = ["replay", "start"]
        # Occurrence ids are unique per replay (a replay id may be sent to two projects).
        constraints = [
            models.UniqueConstraint(
                fields=["replay", "occurrence_id"], name="unique_replay_click_window"
            )
        ]
        indexes = [models.Index(fields=["replay", "start"]), models.Index(fields=["replay", "end"])]

    def __str__(self) -> str:
        return f"{self.replay} click {self.occurrence_id}"
