"""The HTTP edge of ingest: ``POST /api/<project_id>/envelope/`` and
``POST /api/<project_id>/occurrences/``.

The views check and hand off; they do no processing. They answer as Relay does, so SDKs react as
they would against Sentry: 200 once the broker has the message, 4xx with a reason in the body and
in ``X-Sentry-Error`` when the body is refused, 503 when the broker is unreachable. CORS is
handled by django-cors-headers (settings: ``CORS_*``).
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from prometheus_client import Counter

from ingest.auth import dsn_key, request_key, resolve_key
from ingest.envelope import parse_envelope
from ingest.error_event import extract_error_event
from ingest.errors import EnvelopeRejected, MissingAuth, PayloadTooLarge
from ingest.event_message import encode_event_message
from ingest.inflate import decode_content
from ingest.occurrence import accept_occurrence
from ingest.producer import get_producer
from ingest.queries import KeyGrant, authorize_key
from ingest.rate_limits import enforce as enforce_rate_limit
from ingest.recording_message import encode_recording_message
from ingest.replay_segment import RecordingLimits, extract_replay_segment
from pipeline.metrics import ENVELOPES, POSTED_OCCURRENCES
from pipeline.params import ascii_int

logger = logging.getLogger(__name__)


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The request body, refused with 413 once it passes ``limit`` bytes.

    A body sent with ``Transfer-Encoding: chunked`` has no Content-Length, and Django then reads
    nothing; where the server marks the input as terminated (gunicorn does), it is read to its end.
    """
    declared = request.META.get("CONTENT_LENGTH") or ""
    declared_bytes = ascii_int(declared)
    if declared_bytes is not None and declared_bytes > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes, over the limit of {limit}")
    if not declared and request.META.get("wsgi.input_terminated"):
        stream = request.META["wsgi.input"]
    else:
        stream = request
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    return body


def rejection(exc: EnvelopeRejected) -> JsonResponse:
    response = JsonResponse({"detail": exc.detail}, status=exc.status)
    # Header values must be one printable line; the detail may quote what the sender sent.
    response["X-Sentry-Error"] = "".join(c if " " <= c <= "~" else "?" for c in exc.detail[:500])
    for name, value in exc.headers.items():
        response[name] = value
    return response


def _decoded_body(request: HttpRequest, limit: int) -> bytes:
    """The request's body, its Content-Encoding undone, ``limit`` bytes at most either way."""
    body = read_body(request, limit)
    encoding = request.headers.get("Content-Encoding", "")
    return decode_content(body, encoding, limit) if encoding else body


def _answer(
    request: HttpRequest,
    project_id: str,
    accept: Callable[[HttpRequest, int], dict[str, str]],
    counter: Counter,
    what: str,
) -> HttpResponse:
    """The endpoints' shared edge: 200 to a CORS preflight, else ``accept``'s body as JSON or
    the refusal it raised, logged and counted by outcome and reason."""
    if request.method == "OPTIONS":
        return HttpResponse(status=200)
    try:
        answer = accept(request, int(project_id))
    except EnvelopeRejected as exc:
        logger.info("%s for project %s refused (%s): %s", what, project_id, exc.status, exc.detail)
        counter.labels("rejected", exc.reason).inc()
        return rejection(exc)
    counter.labels("accepted", "").inc()
    return JsonResponse(answer)


def accept_envelope(request: HttpRequest, project_id: int) -> dict[str, str]:
    """Check the envelope and publish its replay segment and its error event (when it names a
    replay); return the answer's body."""
    limit = settings.INGEST_MAX_BODY_BYTES
    from_request = request_key(request.GET, request.headers)
    grant: KeyGrant | None = None
    if from_request:
        # Authenticate (and count against the key's rate limit) before inflating or parsing
        # anything a stranger sent.
        grant = authorize_key(project_id, from_request)
        enforce_rate_limit(grant.key_id, grant.rate_limit)
    body = _decoded_body(request, limit)
    envelope = parse_envelope(body)
    public_key = resolve_key(from_request, dsn_key(envelope.headers.get("dsn"), project_id))
    if grant is None:
        grant = authorize_key(project_id, public_key)
        enforce_rate_limit(grant.key_id, grant.rate_limit)

    limits = RecordingLimits(
        max_bytes=settings.INGEST_MAX_RECORDING_BYTES,
        max_inflated_bytes=settings.INGEST_MAX_RECORDING_INFLATED_BYTES,
    )
    # Both are checked before either is published: a refused envelope publishes nothing.
    segment = extract_replay_segment(envelope, limits)
    error_event = extract_error_event(envelope, settings.INGEST_MAX_EVENT_BYTES)
    received = int(time.time())
    if error_event is not None:
        message = encode_event_message(
            error_event,
            project_id=project_id,
            org_id=grant.org_id,
            key_id=grant.key_id,
            received=received,
            retention_days=settings.REPLAY_RETENTION_DAYS,
        )
        # Keyed by replay id, as the replay's segments are: one replay's events stay in order.
        get_producer().publish(
            settings.TOPIC_EVENTS, key=error_event.replay_id.encode(), value=message
        )
    if segment is None:
        if error_event is not None:
            return {"id": error_event.event_id}
        event_id = envelope.headers.get("event_id")
        return {"id": event_id} if isinstance(event_id, str) else {}
    message = encode_recording_message(
        segment,
        project_id=project_id,
        org_id=grant.org_id,
        key_id=grant.key_id,
        received=received,
        retention_days=settings.REPLAY_RETENTION_DAYS,
    )
    get_producer().publish(
        settings.TOPIC_REPLAY_RECORDINGS, key=segment.replay_id.encode(), value=message
    )
    return {"id": segment.replay_id}


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def envelope_view(request: HttpRequest, project_id: str) -> HttpResponse:
    return _answer(request, project_id, accept_envelope, ENVELOPES, "envelope")


def accept_occurrence_post(request: HttpRequest, project_id: int) -> dict[str, str]:
    """Check one posted occurrence and publish it; return the answer's body.

    The key must come with the request (query string or header): an occurrence has no envelope
    header to carry a DSN. It is checked, and counted against the key's rate limit (the same count
    as the key's envelopes), before the body is read.
    """
    public_key = request_key(request.GET, request.headers)
    if not public_key:
        raise MissingAuth(
            "no public key: send it as ?sentry_key=, or in the X-Sentry-Auth or Authorization "
            "header (Sentry sentry_key=<public key>)"
        )
    grant = authorize_key(project_id, public_key)
    enforce_rate_limit(grant.key_id, grant.rate_limit)
    limit = settings.INGEST_MAX_OCCURRENCE_BYTES
    body = _decoded_body(request, limit)
    occurrence = accept_occurrence(body, project_id)
    get_producer().publish(settings.TOPIC_OCCURRENCES, key=occurrence.key, value=occurrence.message)
    return {"id": occurrence.id}


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def occurrence_view(request: HttpRequest, project_id: str) -> HttpResponse:
    return _answer(request, project_id, accept_occurrence_post, POSTED_OCCURRENCES, "occurrence")
