"""The REST API of ARCHITECTURE.md's operator interface, under /api/0/."""

from django.urls import path

from issues.api import views

app_name = "api"
urlpatterns = [
    path("projects/", views.ProjectListView.as_view(), name="project-list"),
    path(
        "projects/<int:project_id>/issues/",
        views.ProjectIssueListView.as_view(),
        name="project-issue-list",
    ),
    path(
        "projects/<int:project_id>/replays/<str:replay_id>/",
        views.ReplayDetailView.as_view(),
        name="replay-detail",
    ),
    path("issues/<int:pk>/", views.IssueDetailView.as_view(), name="issue-detail"),
    path(
        "issues/<int:issue_id>/occurrences/",
        views.IssueOccurrenceListView.as_view(),
        name="issue-occurrence-list",
    ),
]
