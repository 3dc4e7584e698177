"""``Cache-Control: private`` on every answer to a signed-in user (a session or an API token):
what such a page or API answer shows is that user's, and a shared cache (a proxy, a CDN) must not
keep it for the next one. Directives a view set itself (``no-cache`` on a recording) are kept."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class PrivateCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # DRF sets the token's user on the request it wraps, so API answers are seen here too.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True)
        return response
