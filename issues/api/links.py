"""Links from the API to the web UI's pages, absolute when the request is known.

The UI serves an issue at ``/issues/<id>/`` and a replay, opened at a click, at
``/projects/<project id>/replays/<replay id hex>/?occurrence=<occurrence id>``.
"""

from urllib.parse import urlencode
from uuid import UUID

from django.http import HttpRequest


def _absolute(request: HttpRequest | None, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def issue_page_url(request: HttpRequest | None, issue_id: int) -> str:
    return _absolute(request, f"/issues/{issue_id}/")


def replay_page_url(
    request: HttpRequest | None, project_id: int, replay_id: UUID, occurrence_id: str = ""
) -> str:
    path = f"/projects/{project_id}/replays/{replay_id.hex}/"
    if occurrence_id:
        path += "?" + urlencode({"occurrence": occurrence_id})
    return _absolute(request, path)
