"""What the API shows of projects, issues, occurrences and replays; only an issue's status is
writable (``IssueStatusSerializer``)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ingest.models import Project
from issues.api.links import issue_page_url, replay_page_url
from issues.causes import CAUSE_KINDS, cause_of
from issues.impact import impact_of
from issues.models import Issue, IssueStatus, Occurrence
from replay_errors.models import ReplayErrorEvent
from replay_errors.queries import replay_error_events
from replays.models import Replay, ReplaySegment


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
    """The one change the API makes to an issue: resolve, ignore or reopen it."""

    status = serializers.ChoiceField(
        choices=IssueStatus.choices,
        error_messages={
            "invalid_choice": (
                f'"{{input}}" is not a status: use one of {", ".join(IssueStatus.values)}.'
            )
        },
    )

    def validate(self, attrs: dict) -> dict:
        read_only = sorted(set(self.initial_data) - set(self.fields))
        if read_only:
            raise serializers.ValidationError(
                {name: "Read-only: only status can be changed." for name in read_only}
            )
        return attrs


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
