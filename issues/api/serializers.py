"""What the API shows of projects, issues, occurrences and replays; only an issue's status (and
its conditions) is writable (``IssueStatusSerializer``)."""

from datetime import timedelta

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ingest.models import Project
from issues import clock
from issues.api.links import issue_page_url, replay_page_url
from issues.archive import IgnoreUntil
from issues.causes import CAUSE_KINDS, cause_of
from issues.impact import impact_of
from issues.models import Issue, IssueStatus, Occurrence
from replay_errors.models import ReplayErrorEvent
from replay_errors.queries import replay_error_events
from replays.models import Replay, ReplaySegment

IGNORE_FIELDS = ["ignore_until", "ignore_duration", "ignore_count", "ignore_user_count"]
MAX_IGNORE_MINUTES = 366 * 24 * 60  # a year
MAX_IGNORE_COUNT = 1_000_000


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "org_id", "created_at"]


class UserSerializer(serializers.Serializer):
    """The SDK's ``user`` of an occurrence or a replay (each part may be blank)."""

    id = serializers.CharField(source="user_id", read_only=True)
    email = serializers.CharField(source="user_email", read_only=True)
    username = serializers.CharField(source="user_name", read_only=True)
    ip_address = serializers.CharField(source="user_ip", read_only=True)


class IssueMetadataSerializer(serializers.Serializer):
    """The clicked element and its page, from the issue's first occurrence."""

    selector = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    route = serializers.CharField(read_only=True, required=False)
    component = serializers.CharField(read_only=True, required=False)
    tag = serializers.CharField(read_only=True, required=False)
    text = serializers.CharField(read_only=True, required=False)
    attributes = serializers.DictField(
        child=serializers.CharField(), read_only=True, required=False
    )


class CauseSerializer(serializers.Serializer):
    """Why a click failed, as the replays consumer read its window."""

    kind = serializers.ChoiceField(choices=CAUSE_KINDS, read_only=True)
    detail = serializers.CharField(read_only=True, help_text="One line: what happened.")


class LikelyCauseSerializer(CauseSerializer):
    """The most common cause of an issue's occurrences."""

    share = serializers.FloatField(
        read_only=True, min_value=0, max_value=1, help_text="Of its occurrences, those with it."
    )


class ImpactSerializer(serializers.Serializer):
    """The issue against its exposure in its period (its first to its last day, UTC)."""

    page_sessions = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Sessions (replays) on its page."
    )
    page_share = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Of those sessions, the share that hit it."
    )
    element_clicks = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Clicks on its element (null: no element)."
    )
    element_share = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Of those clicks, the share it counted."
    )


class OccurrenceSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="occurrence_id", read_only=True)
    cause = serializers.SerializerMethodField(
        help_text="Why this click failed (``evidence.cause``), or null when nothing says."
    )
    replay_id = serializers.UUIDField(format="hex", read_only=True, allow_null=True)
    user = UserSerializer(source="*", read_only=True)
    replay_url = serializers.SerializerMethodField(
        help_text="The web UI's replay page, opened at this click."
    )

    class Meta:
        model = Occurrence
        fields = [
            "id",
            "issue",
            "event_id",
            "replay_id",
            "segment_id",
            "timestamp",
            "user",
            "release",
            "environment",
            "browser",
            "browser_version",
            "os",
            "os_version",
            "device",
            "url",
            "evidence",
            "evidence_display",
            "tags",
            "replay_url",
            "cause",
        ]
        read_only_fields = fields

    @extend_schema_field(CauseSerializer(allow_null=True))
    def get_cause(self, occurrence: Occurrence) -> dict | None:
        cause = cause_of(occurrence.evidence if isinstance(occurrence.evidence, dict) else {})
        return {"kind": cause[0], "detail": cause[1]} if cause else None

    def get_replay_url(self, occurrence: Occurrence) -> str | None:
        if occurrence.replay_id is None:
            return None
        return replay_page_url(
            self.context.get("request"),
            occurrence.project_id,
            occurrence.replay_id,
            occurrence.occurrence_id,
        )


class IssueSerializer(serializers.ModelSerializer):
    short_id = serializers.CharField(
        read_only=True,
        help_text="The project's slug, upper case, and the issue's number in the project "
        "(SHOP-12); `query` finds the issue by it.",
    )
    metadata = IssueMetadataSerializer(read_only=True)
    permalink = serializers.SerializerMethodField(help_text="The issue's page in the web UI.")
    likely_cause = serializers.SerializerMethodField(
        help_text="The most common cause of its clicks, or null when none has one."
    )
    impact = serializers.SerializerMethodField(
        help_text="Sessions on its page and clicks on its element in its period, and its "
        "shares of them; null when nothing was counted."
    )

    class Meta:
        model = Issue
        fields = [
            "id",
            "short_id",
            "project",
            "type",
            "title",
            "subtitle",
            "culprit",
            "level",
            "status",
            "times_seen",
            "users_seen",
            "first_seen",
            "last_seen",
            "resolved_at",
            "regressed_at",
            "resolved_in_release",
            "ignore_until",
            "ignore_count",
            "ignore_user_count",
            "metadata",
            "permalink",
            "likely_cause",
            "impact",
        ]
        read_only_fields = fields

    @extend_schema_field(LikelyCauseSerializer(allow_null=True))
    def get_likely_cause(self, issue: Issue) -> dict | None:
        cause = issue.likely_cause
        if not isinstance(cause, dict):
            return None
        return {key: cause.get(key) for key in ("kind", "detail", "share")}

    @extend_schema_field(ImpactSerializer(allow_null=True))
    def get_impact(self, issue: Issue) -> dict | None:
        return impact_of(issue)

    def get_permalink(self, issue: Issue) -> str:
        return issue_page_url(self.context.get("request"), issue.pk)


class IssueDetailSerializer(IssueSerializer):
    latest_occurrence = serializers.SerializerMethodField(
        help_text="The newest click of this issue, with the link to its replay."
    )

    class Meta(IssueSerializer.Meta):
        fields = [*IssueSerializer.Meta.fields, "latest_occurrence"]
        read_only_fields = fields

    @extend_schema_field(OccurrenceSerializer(allow_null=True))
    def get_latest_occurrence(self, issue: Issue) -> dict | None:
        latest = issue.occurrences.order_by("-timestamp", "-id").first()
        return OccurrenceSerializer(latest, context=self.context).data if latest else None


class IssueStatusSerializer(serializers.Serializer):
    """The one change the API makes to issues: resolve, ignore or reopen them, with the
    conditions of Sentry's ``statusDetails`` (an ignore that ends, a resolve in the next
    release)."""

    status = serializers.ChoiceField(
        choices=IssueStatus.choices,
        error_messages={
            "invalid_choice": (
                f'"{{input}}" is not a status: use one of {", ".join(IssueStatus.values)}.'
            )
        },
    )
    ignore_until = serializers.DateTimeField(
        required=False, help_text="With status ignored: unresolved again at this time."
    )
    ignore_duration = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_IGNORE_MINUTES,
        help_text="With status ignored: unresolved again after this many minutes (with "
        "ignore_until too: at the earlier of the two).",
    )
    ignore_count = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_IGNORE_COUNT,
        help_text="With status ignored: unresolved again after this many more occurrences.",
    )
    ignore_user_count = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_IGNORE_COUNT,
        help_text="With status ignored: unresolved again after this many more distinct users.",
    )
    in_next_release = serializers.BooleanField(
        required=False,
        default=False,
        help_text="With status resolved: reopened only by a click from a newer release than "
        "the project's newest now (a plain resolve when the project has no release yet).",
    )

    def validate(self, attrs: dict) -> dict:
        read_only = sorted(set(self.initial_data) - set(self.fields))
        if read_only:
            raise serializers.ValidationError(
                {name: "Read-only: only status can be changed." for name in read_only}
            )
        ignores = [name for name in IGNORE_FIELDS if name in attrs]
        if ignores and attrs["status"] != IssueStatus.IGNORED:
            raise serializers.ValidationError(
                {name: "Only with status ignored." for name in ignores}
            )
        if "in_next_release" in self.initial_data and attrs["status"] != IssueStatus.RESOLVED:
            raise serializers.ValidationError({"in_next_release": "Only with status resolved."})
        return attrs

    def change(self) -> dict:
        """The keyword arguments of ``issue_set_status`` (``issues_set_status``) besides the
        status."""
        data = self.validated_data
        # Any condition ends the ignore: with both a time and a duration, the earlier one.
        ends = [data["ignore_until"]] if "ignore_until" in data else []
        if "ignore_duration" in data:
            ends.append(clock.now() + timedelta(minutes=data["ignore_duration"]))
        until = min(ends, default=None)
        return {
            "ignore": IgnoreUntil(until, data.get("ignore_count"), data.get("ignore_user_count")),
            "in_next_release": data["in_next_release"],
        }


class BulkStatusResultSerializer(serializers.Serializer):
    """What a bulk status change did."""

    status = serializers.ChoiceField(choices=IssueStatus.choices, read_only=True)
    ids = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text="The issues changed."
    )


class ReplaySegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReplaySegment
        fields = [
            "segment_id",
            "size",
            "compressed_size",
            "timestamp",
            "received_at",
            "dead_clicks",
            "rage_clicks",
            "slow_clicks",
            "multi_clicks",
            "hydration_errors",
        ]
        read_only_fields = fields


class ReplayErrorEventSerializer(serializers.ModelSerializer):
    """One of the SDK's error events that carried the replay's id."""

    event_id = serializers.UUIDField(format="hex", read_only=True)

    class Meta:
        model = ReplayErrorEvent
        fields = ["event_id", "timestamp", "level", "type", "value", "culprit", "url"]
        read_only_fields = fields


class ReplaySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="replay_id", format="hex", read_only=True)
    user = UserSerializer(source="*", read_only=True)
    segments = ReplaySegmentSerializer(many=True, read_only=True)
    replay_url = serializers.SerializerMethodField(help_text="The replay's page in the web UI.")
    errors = serializers.SerializerMethodField(
        help_text="The SDK's error events that carried this replay's id, oldest first."
    )

    class Meta:
        model = Replay
        fields = [
            "id",
            "project",
            "started_at",
            "last_seen_at",
            "segment_count",
            "urls",
            "user",
            "browser",
            "browser_version",
            "os",
            "os_version",
            "device",
            "release",
            "environment",
            "platform",
            "sdk_name",
            "sdk_version",
            "replay_type",
            "error_ids",
            "trace_ids",
            "dead_clicks",
            "rage_clicks",
            "slow_clicks",
            "multi_clicks",
            "hydration_errors",
            "retention_days",
            "segments",
            "replay_url",
            "errors",
        ]
        read_only_fields = fields

    @extend_schema_field(ReplayErrorEventSerializer(many=True))
    def get_errors(self, replay: Replay) -> list[dict]:
        """The error events that name this replay, oldest first (they may have come before its
        first segment)."""
        events = replay_error_events(replay.project_id, replay.replay_id)
        return ReplayErrorEventSerializer(events, many=True).data

    def get_replay_url(self, replay: Replay) -> str:
        return replay_page_url(self.context.get("request"), replay.project_id, replay.replay_id)
