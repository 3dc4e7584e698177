"""Operational endpoints: liveness, readiness and Prometheus metrics.

- ``/healthz``: the process answers (liveness; restart it if not). Touches nothing else, so a
  database outage does not get every web worker restarted.
- ``/readyz``: the database and the broker answer, and the recordings topic exists (readiness;
  send it no traffic if not). 503 names what is down.
- ``/metrics``: Prometheus text format (``pipeline.metrics``); behind ``METRICS_TOKEN`` when set.
"""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from pipeline import health, metrics


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    problems = {
        "database": health.database_problem(),
        "broker": health.broker_problem(
            settings.READYZ_BROKER_TIMEOUT_S, topic=settings.TOPIC_REPLAY_RECORDINGS
        ),
    }
    checks = {name: problem or "ok" for name, problem in problems.items()}
    ready = not any(problems.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse(
                "a bearer token is required\n", status=401, content_type="text/plain"
            )
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
