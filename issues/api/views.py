"""The API's views: thin DRF generics over issues.queries, so every read is scoped to the
projects the user may see. The class-level ``queryset`` of each view only names its model for the
schema; ``get_queryset`` is what the requests read."""

import uuid

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.defaults import page_not_found
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from ingest.models import Project
from issues.api.pagination import IssueListPagination, OccurrenceCursorPagination, Pagination
from issues.api.serializers import (
    BulkStatusResultSerializer,
    IssueDetailSerializer,
    IssueSerializer,
    IssueStatusSerializer,
    OccurrenceSerializer,
    ProjectSerializer,
    ReplaySerializer,
)
from issues.filters import PERIOD_LABELS, IssueFilter
from issues.models import Issue, IssueStatus, IssueType, Occurrence
from issues.queries import (
    IssueCount,
    issue_list_count,
    issue_occurrences,
    issues_for,
    projects_for,
    replay_for,
)
from issues.search_slots import SearchesBusy, search_slot
from issues.services import issue_set_status, issues_set_status, issues_wake_ignored
from replays.models import Replay


class SearchesBusyError(APIException):
    status_code = 503
    default_detail = SearchesBusy.message


# Without ``id``, the bulk change takes the list's filters (as its GET documents them).
BULK_FILTER_PARAMETERS = [
    OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.QUERY, many=many, enum=enum, description=text
    )
    for name, many, enum, text in [
        ("status", True, IssueStatus.values, "Without id: the issues of these statuses."),
        ("type", True, IssueType.values, "Without id: the issues of these types."),
        ("environment", False, None, "Without id: seen in this environment."),
        ("release", False, None, "Without id: seen in this release."),
        ("browser", False, None, "Without id: seen in this browser."),
        ("query", False, None, "Without id: the issues this search finds (as the list's)."),
        ("period", False, list(PERIOD_LABELS), "Without id: seen in this time range."),
    ]
]


def _visible_project(request: Request, project_id: int) -> Project:
    """The project, if the user may see it; 404 otherwise (its existence is not told)."""
    return get_object_or_404(projects_for(request.user), pk=project_id)


@extend_schema_view(
    get=extend_schema(
        tags=["projects"], operation_id="projects_list", summary="The projects you can see"
    )
)
class ProjectListView(generics.ListAPIView):
    queryset = Project.objects.none()
    serializer_class = ProjectSerializer
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[Project]:
        return projects_for(self.request.user)


@extend_schema_view(
    get=extend_schema(
        tags=["issues"],
        operation_id="project_issues_list",
        summary="A project's issues",
        description="Shown issues (past the project's noise threshold, not held back by its "
        "creation quota), most recently seen first unless `sort` says otherwise. A `query` that "
        "is one short id (`SHOP-12`, or an old `CLICK-<id>`) also finds that issue. Paged by "
        "number (`page`) or by cursor (`cursor`, from the `next`/`previous` links or the `Link` "
        'header while it says `results="true"`): a deep page costs no more by cursor than the '
        "first.",
        parameters=[
            OpenApiParameter(
                "Link",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                description="The previous and next pages by cursor, as Sentry's: "
                '`<url>; rel="next"; results="true"; cursor="..."`.',
            ),
            OpenApiParameter(
                "X-Hits",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                response=[200],
                description="The issues that match: `count`.",
            ),
            OpenApiParameter(
                "X-Max-Hits",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                response=[200],
                description="Sent when the count stopped at its bound: more issues than "
                "`X-Hits` match.",
            ),
        ],
    )
)
class ProjectIssueListView(generics.ListAPIView):
    """GET lists a project's issues; PATCH changes the status of several at once (Sentry's
    bulk mutate): those of ``id`` (repeated), or without ``id`` every issue the list's filters
    match."""

    queryset = Issue.objects.none()
    serializer_class = IssueSerializer
    filterset_class = IssueFilter
    pagination_class = IssueListPagination
    # A status change is JSON; forms are the web UI's (issues.views.issues.issue_bulk_status).
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Issue]:
        self.project = _visible_project(self.request, self.kwargs["project_id"])
        issues = issues_for(self.request.user, self.project.pk)
        issues_wake_ignored(issues)
        return issues

    def matching_count(self, issues: QuerySet[Issue], bound: int) -> IssueCount:
        """How many of the project's issues the list's filters match (``issues``): for
        ``IssueListPagination``, exact or up to ``bound``."""
        filters = IssueFilter(self.request.query_params, queryset=issues)
        filters.is_valid()  # it is: the list was filtered by it (refused with 400 otherwise)
        statuses = filters.form.cleaned_data.get("status") or []
        return issue_list_count(self.project, issues, statuses, filters.narrowed(), bound)

    @extend_schema(
        tags=["issues"],
        operation_id="project_issues_update_status",
        summary="Resolve, ignore or reopen several issues at once",
        description="The issues of `id` (repeat it: `?id=1&id=2`), or without `id` every issue "
        "that the list's filters (`status`, `type`, `query`, ...) match. Each goes through the "
        "same change as one issue's PATCH. An `id` that is not one of this project's issues "
        "you can see answers 404, and nothing is changed.",
        parameters=[
            OpenApiParameter(
                "id",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                many=True,
                description="An issue's id; repeat for several.",
            ),
            *BULK_FILTER_PARAMETERS,
        ],
        request=IssueStatusSerializer,
        responses={
            200: BulkStatusResultSerializer,
            400: OpenApiResponse(description="Not a status, an id that is not a number, ..."),
        },
    )
    def patch(self, request: Request, *args, **kwargs) -> Response:
        change = IssueStatusSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        issues = self.get_queryset()
        raw_ids = request.query_params.getlist("id")
        if raw_ids:
            try:
                ids = {int(raw) for raw in raw_ids}
            except ValueError:
                raise ValidationError({"id": ["An issue id is a number."]}) from None
            # An id no database key can hold (a 64-bit integer) is no issue either.
            if any(not 0 < pk < 2**63 for pk in ids):
                raise NotFound("Not every id is one of this project's issues.")
            chosen = issues.filter(pk__in=ids)
            if chosen.count() != len(ids):
                raise NotFound("Not every id is one of this project's issues.")
        else:
            chosen = self.filter_queryset(issues)
        changed = issues_set_status(
            chosen, change.validated_data["status"], user=request.user, **change.change()
        )
        return Response(
            {"status": change.validated_data["status"], "ids": [issue.pk for issue in changed]}
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        try:
            with search_slot(request.query_params.get("query")):
                return super().list(request, *args, **kwargs)
        except SearchesBusy as busy:
            raise SearchesBusyError(str(busy)) from None


@extend_schema_view(
    get=extend_schema(
        tags=["issues"],
        operation_id="issue_retrieve",
        summary="An issue, with its latest occurrence",
    )
)
class IssueDetailView(generics.RetrieveAPIView):
    """GET an issue; PATCH changes its status and nothing else."""

    queryset = Issue.objects.none()
    serializer_class = IssueDetailSerializer
    # A status change is JSON; forms are the web UI's (issues.views.issues.issue_status).
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Issue]:
        return issues_for(self.request.user)

    @extend_schema(
        tags=["issues"],
        operation_id="issue_update_status",
        summary="Resolve, ignore or reopen an issue",
        request=IssueStatusSerializer,
        responses={
            200: IssueDetailSerializer,
            400: OpenApiResponse(
                description="Not a status, no status, or a field other than status."
            ),
        },
    )
    def patch(self, request: Request, *args, **kwargs) -> Response:
        issue = self.get_object()
        change = IssueStatusSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        issue_set_status(
            issue, change.validated_data["status"], user=request.user, **change.change()
        )
        return Response(self.get_serializer(issue).data)

    def get_object(self) -> Issue:
        issue = super().get_object()
        if issues_wake_ignored(Issue.objects.filter(pk=issue.pk)):
            issue.refresh_from_db()
        return issue


@extend_schema_view(
    get=extend_schema(
        tags=["issues"],
        operation_id="issue_occurrences_list",
        summary="An issue's occurrences, newest first",
        description='Paged by cursor: follow `next` (or the `Link` header\'s `rel="next"` '
        'while it says `results="true"`).',
    )
)
class IssueOccurrenceListView(generics.ListAPIView):
    queryset = Occurrence.objects.none()
    serializer_class = OccurrenceSerializer
    pagination_class = OccurrenceCursorPagination

    def get_queryset(self) -> QuerySet[Occurrence]:
        issue = get_object_or_404(issues_for(self.request.user), pk=self.kwargs["issue_id"])
        self.result_count = issue.times_seen
        return issue_occurrences(issue)


@extend_schema_view(
    get=extend_schema(
        tags=["replays"],
        operation_id="replay_retrieve",
        summary="A replay, with its segments, click counts and error events",
        parameters=[
            OpenApiParameter(
                "replay_id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="32 hex digits or a dashed UUID.",
            )
        ],
    )
)
class ReplayDetailView(generics.RetrieveAPIView):
    queryset = Replay.objects.none()
    serializer_class = ReplaySerializer

    def get_object(self) -> Replay:
        project = _visible_project(self.request, self.kwargs["project_id"])
        try:
            replay_id = uuid.UUID(self.kwargs["replay_id"])
        except ValueError:
            raise NotFound("A replay id is 32 hex digits or a dashed UUID.") from None
        replay = replay_for(self.request.user, project.pk, replay_id)
        if replay is None:
            raise NotFound("No such replay in this project.")
        return replay


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: under /api/ a URL that matches no route (``/api/0/issues/abc/``) answers
    as the API's own 404s do, in JSON; elsewhere the web UI's 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
