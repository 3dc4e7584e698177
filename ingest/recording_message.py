"""The message that ingest publishes per segment on ``ingest-replay-recordings``: Relay's shape."""

import msgpack

from ingest.replay_segment import ReplaySegment

MESSAGE_TYPE = "replay_recording_not_chunked"


def encode_recording_message(
    segment: ReplaySegment,
    *,
    project_id: int,
    org_id: int,
    key_id: int | None,
    received: int,
    retention_days: int,
) -> bytes:
    """msgpack bytes valid against sentry-kafka-schemas' ``ingest-replay-recordings`` schema.

    ``payload`` is the recording item as sent (segment header line and body); ``replay_event`` is
    the segment's replay_event JSON, so the consumer merges the two without another lookup.
    """
    return msgpack.packb(
        {
            "type": MESSAGE_TYPE,
            "replay_id": segment.replay_id,
            "key_id": key_id,
            "org_id": org_id,
            "project_id": project_id,
            "received": received,
            "retention_days": retention_days,
            "payload": segment.recording,
            "replay_event": segment.replay_event,
            "version": 1,
        },
        use_bin_type=True,
    )
