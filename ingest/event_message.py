"""The message that ingest publishes per error event on ``ingest-events``: Relay's shape.

Relay's ``type: "event"`` message (valid against sentry-kafka-schemas' ``ingest-events`` schema),
with the event JSON as sent in ``payload``, plus what the replay-errors consumer needs without
parsing the payload first: the replay id (the message's key too) and the retention.
"""

import msgpack

from ingest.error_event import ErrorEvent

MESSAGE_TYPE = "event"


def encode_event_message(
    event: ErrorEvent,
    *,
    project_id: int,
    org_id: int,
    key_id: int | None,
    received: int,
    retention_days: int,
) -> bytes:
    return msgpack.packb(
        {
            "type": MESSAGE_TYPE,
            "event_id": event.event_id,
            "project_id": project_id,
            "start_time": received,
            "payload": event.payload,
            "attachments": [],
            "replay_id": event.replay_id,
            "org_id": org_id,
            "key_id": key_id,
            "retention_days": retention_days,
        },
        use_bin_type=True,
    )
