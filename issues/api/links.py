"""Links from the API to the web UI's pages (by their URL names), absolute when the request is
known."""

from urllib.parse import urlencode
from uuid import UUID

from django.http import HttpRequest
from django.urls import reverse


def _absolute(request: HttpRequest | None, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def issue_page_url(request: HttpRequest | None, issue_id: int) -> str:
    return _absolute(request, reverse("issues:issue-detail", args=[issue_id]))


def replay_page_url(
    request: HttpRequest | None, project_id: int, replay_id: UUID, occurrence_id: str = ""
) -> str:
    path = reverse("issues:replay", args=[project_id, replay_id])
    if occurrence_id:
        path += "?" + urlencode({"occurrence": occurrence_id})
    return _absolute(request, path)
