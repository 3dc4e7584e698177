"""Why an envelope was refused, as the HTTP answer the SDK understands (Relay's statuses)."""


class EnvelopeRejected(Exception):
    """The envelope cannot be accepted; ``detail`` tells the sender what was wrong."""

    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class MalformedEnvelope(EnvelopeRejected):
    status = 400


class MissingAuth(EnvelopeRejected):
    status = 401


class Forbidden(EnvelopeRejected):
    status = 403


class PayloadTooLarge(EnvelopeRejected):
    status = 413


class BrokerUnavailable(EnvelopeRejected):
    status = 503
