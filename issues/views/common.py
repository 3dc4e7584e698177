"""What every page of the web UI needs: the project it shows, and the header's project list."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from ingest.models import Project
from issues.queries import projects_for
from pipeline.params import ascii_int


def project_or_404(request: HttpRequest, project_id: int) -> Project:
    return get_object_or_404(projects_for(request.user), pk=project_id)


def page_context(request: HttpRequest, project: Project | None, **context: Any) -> dict[str, Any]:
    """The template context with the current project and the projects of the switcher."""
    return {"project": project, "projects": list(projects_for(request.user)), **context}


def page_number(request: HttpRequest) -> int:
    """``?page=``: ASCII digits, else the first page (Paginator.get_page keeps it in range)."""
    return ascii_int(request.GET.get("page")) or 1
