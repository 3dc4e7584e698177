"""The alert rules under /api/0/projects/<project_id>/alert-rules/."""

from django.urls import path

from alerts.api import views

app_name = "alerts-api"
urlpatterns = [
    path(
        "projects/<int:project_id>/alert-rules/",
        views.AlertRuleListView.as_view(),
        name="rule-list",
    ),
    path(
        "projects/<int:project_id>/alert-rules/<int:pk>/",
        views.AlertRuleDetailView.as_view(),
        name="rule-detail",
    ),
    path(
        "projects/<int:project_id>/alert-rules/<int:pk>/deliveries/",
        views.AlertDeliveryListView.as_view(),
        name="rule-deliveries",
    ),
]
