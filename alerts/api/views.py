"""The alert rules API: thin DRF generics over ``alerts.queries`` (another organization's
project, rule or deliveries are 404, as everywhere in the API)."""

from collections.abc import Callable
from functools import partial

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from alerts.api.schema import body_errors, flat_errors
from alerts.api.serializers import (
    AlertDeliverySerializer,
    AlertRulePatchSerializer,
    AlertRuleSerializer,
)
from alerts.models import AlertDelivery, AlertRule
from alerts.queries import rule_deliveries, rules_for
from issues.api.pagination import Pagination
from issues.queries import projects_for


def _checked(data: object, save: Callable[[], Response], *, creating: bool = True) -> Response:
    """``save`` once the body passes the JSON Schema that /api/schema/ publishes; its errors,
    or the serializer's, as one 400 in the API's ValidationError shape."""
    errors = body_errors(data, creating=creating)
    if errors:
        return Response(errors, status=400)
    try:
        return save()
    except ValidationError as exc:
        return Response(flat_errors(exc.detail), status=400)


@extend_schema_view(
    get=extend_schema(
        tags=["alerts"], operation_id="alert_rules_list", summary="A project's rules"
    ),
    post=extend_schema(tags=["alerts"], operation_id="alert_rules_create", summary="Add a rule"),
)
class AlertRuleListView(generics.ListCreateAPIView):
    queryset = AlertRule.objects.none()
    serializer_class = AlertRuleSerializer
    pagination_class = Pagination
    parser_classes = [JSONParser]

    def project(self):
        return get_object_or_404(projects_for(self.request.user), pk=self.kwargs["project_id"])

    def get_queryset(self) -> QuerySet[AlertRule]:
        return rules_for(self.request.user, self.project().pk)

    def create(self, request: Request, *args, **kwargs) -> Response:
        self.project()  # another organization's project: 404 before the body is read
        return _checked(request.data, partial(super().create, request, *args, **kwargs))

    def perform_create(self, serializer: AlertRuleSerializer) -> None:
        serializer.save(project=self.project())


@extend_schema_view(
    get=extend_schema(tags=["alerts"], operation_id="alert_rule_retrieve", summary="A rule"),
    patch=extend_schema(
        tags=["alerts"],
        operation_id="alert_rule_update",
        summary="Change a rule",
        request=AlertRulePatchSerializer,
        responses={200: AlertRuleSerializer},
    ),
    delete=extend_schema(
        tags=["alerts"], operation_id="alert_rule_delete", summary="Delete a rule"
    ),
)
class AlertRuleDetailView(generics.RetrieveUpdateDestroyAPIView):
    queryset = AlertRule.objects.none()
    serializer_class = AlertRuleSerializer
    parser_classes = [JSONParser]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[AlertRule]:
        return rules_for(self.request.user, self.kwargs["project_id"])

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        self.get_object()  # not yours: 404 before the body is read
        return _checked(
            request.data,
            partial(super().partial_update, request, *args, **kwargs),
            creating=False,
        )


@extend_schema_view(
    get=extend_schema(
        tags=["alerts"],
        operation_id="alert_rule_deliveries_list",
        summary="A rule's deliveries, newest first, with status, attempts and last error",
    )
)
class AlertDeliveryListView(generics.ListAPIView):
    queryset = AlertDelivery.objects.none()
    serializer_class = AlertDeliverySerializer
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[AlertDelivery]:
        rule = get_object_or_404(
            rules_for(self.request.user, self.kwargs["project_id"]), pk=self.kwargs["pk"]
        )
        return rule_deliveries(rule)
