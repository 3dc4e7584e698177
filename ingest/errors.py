"""Why an envelope was refused, as the HTTP answer the SDK understands (Relay's statuses)."""


class EnvelopeRejected(Exception):
    """The envelope cannot be accepted; ``detail`` tells the sender what was wrong."""

    status = 400
    # A short, fixed name for metrics and logs (the detail is free text).
    reason = "invalid"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides ``X-Sentry-Error``."""
        return {}


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


class RateLimited(EnvelopeRejected):
    """Over the key's rate limit: the SDK holds back its replay envelopes for ``retry_after_s``
    seconds, as ``X-Sentry-Rate-Limits`` (``<seconds>:<categories>:<scope>``) tells it."""

    status = 429
    reason = "rate_limited"
    # The SDK's data category for replay envelopes (replay_event and replay_recording items).
    data_category = "replay"
    scope = "key"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"the key's rate limit is reached; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        seconds = str(self.retry_after_s)
        return {
            "Retry-After": seconds,
            "X-Sentry-Rate-Limits": f"{seconds}:{self.data_category}:{self.scope}",
        }


class BrokerUnavailable(EnvelopeRejected):
    status = 503
    reason = "broker_unavailable"
