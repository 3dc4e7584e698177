"""The service's URLs, plus ``/bench/noop/``: a view that reads the body and answers, through the
same middleware and server, as the ceiling that the envelope endpoint is measured against."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from settings.urls import urlpatterns as service_urlpatterns


@csrf_exempt
def noop_view(request: HttpRequest) -> JsonResponse:
    request.body  # noqa: B018 -- read it, as the envelope endpoint must
    return JsonResponse({})


urlpatterns = [path("bench/noop/", noop_view), *service_urlpatterns]
