"""The web UI's own 404 page, with ``DEBUG`` on too.

With ``DEBUG`` off, Django renders ``404.html`` for every ``Http404``. With it on (``devstack``'s
default), Django answers with its technical page instead, which lists the URL patterns: a user
who follows a link to an issue that is gone, or to another organization's, should see the
project's page either way. The API keeps its JSON answers, and other 404s that are not HTML
(a file, a JSON endpoint's body) pass through as they are.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

API_PREFIX = "/api/"


class NotFoundPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and response.get("Content-Type", "").startswith("text/html")
            and not request.path.startswith(API_PREFIX)
        ):
            return render(request, "404.html", status=404)
        return response
