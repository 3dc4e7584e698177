"""One occurrence posted to ``POST /api/<project_id>/occurrences/``: checked here, pure.

A back end or a mobile app raises an issue by sending the issue platform's occurrence JSON (the
``ingest-occurrences`` shape). What is accepted here is what the issues stage groups: the body must
pass sentry-kafka-schemas' schema (with the same JSON parser and validator the consumer uses), its
``type`` must be in the registry (``issues.grouptypes``), and the issues stage's own decoding
(``decode_occurrence``: id, fingerprint, level, timestamp, storable values) must take it. So a
sender learns at once, with a 400 naming the field, what would otherwise end silently on the
dead-letter topic.

The URL names the project, as for envelopes: a body without ``project_id`` gets the URL's, a body
with another project's is refused (the key authorizes the URL's project only).
"""

from dataclasses import dataclass

from sentry_kafka_schemas import get_codec
from sentry_kafka_schemas.codecs import ValidationError

from ingest.errors import MalformedEnvelope
from issues import grouptypes
from issues.occurrence_message import InvalidOccurrence, decode_occurrence

_codec = get_codec("ingest-occurrences")


class OccurrenceRejected(MalformedEnvelope):
    """The body is not an occurrence the issue platform can group (400)."""

    reason = "invalid_occurrence"


@dataclass(frozen=True, slots=True)
class AcceptedOccurrence:
    """What to publish: the message, its id (the answer's) and its partition key."""

    id: str
    key: bytes
    message: bytes


def accept_occurrence(body: bytes, project_id: int) -> AcceptedOccurrence:
    """Check ``body`` (JSON, already inflated) for the URL's project; raise ``OccurrenceRejected``
    saying what to fix, else return the message to publish on ``ingest-occurrences``."""
    try:
        value = _codec.decode(body, validate=False)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deep
        raise OccurrenceRejected(f"the body is not valid JSON: {_first_line(exc)}") from None
    if not isinstance(value, dict):
        raise OccurrenceRejected("the body must be one occurrence, a JSON object")
    if "project_id" not in value:
        value["project_id"] = project_id
    try:
        message = _codec.encode(value, validate=True)
    except ValidationError as exc:
        problem = _first_line(exc.__cause__ or exc)
        raise OccurrenceRejected(f"not a valid ingest-occurrences message: {problem}") from None
    except (ValueError, RecursionError) as exc:  # nested deeper than the encoder goes
        raise OccurrenceRejected(f"the occurrence cannot be encoded: {_first_line(exc)}") from None
    if value["project_id"] != project_id:
        raise OccurrenceRejected(
            f"project_id {value['project_id']} in the body is not the URL's project {project_id}: "
            "send it to its own project's URL, or leave project_id out"
        )
    type_id = value.get("type")
    if grouptypes.get_by_id(type_id) is None:
        registered = ", ".join(
            f"{group_type.type_id} ({group_type.slug})"
            for group_type in grouptypes.all_group_types()
        )
        raise OccurrenceRejected(
            f"occurrence type {type_id!r} is not registered; registered types: {registered}"
        )
    try:
        record = decode_occurrence(message)
    except InvalidOccurrence as exc:
        raise OccurrenceRejected(str(exc)) from None
    # Keyed as the replays producer keys its occurrences: by the hash the issues stage groups on,
    # so one issue's occurrences stay in order on one partition.
    return AcceptedOccurrence(
        id=record.occurrence.id, key=record.fingerprint_hash.encode(), message=message
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]
