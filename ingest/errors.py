"""Why an envelope was refused, as the HTTP answer the SDK understands (Relay's statuses)."""


class EnvelopeRejected(Exception):
    """The envelope cannot be accepted; ``detail`` tells the sender what was wrong."""

    status = 400
    # A short, fixed name for metrics and logs (the detail is free text).
    reason = "invalid"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class MalformedEnvelope(EnvelopeRejected):
    status = 400
    reason = "malformed"


class MissingAuth(EnvelopeRejected):
    status = 401
    reason = "unauthenticated"


class Forbidden(EnvelopeRejected):
    status = 403
    reason = "forbidden"


class PayloadTooLarge(EnvelopeRejected):
    status = 413
    reason = "too_large"


class BrokerUnavailable(EnvelopeRejected):
    status = 503
    reason = "broker_unavailable"
