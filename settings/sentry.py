"""The service reports its own errors to Sentry when ``SENTRY_DSN`` is set.

Initialised from the settings, so the web workers and every management command (the consumers
included) report: the Django integration for requests, the logging integration for
``logger.exception`` and error logs (a segment that trips a bug in detection), and the excepthook
for a consumer that dies. ``pipeline.consumers.run_until_signalled`` also captures and flushes
an exception that stops a consumer.
"""

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration


def configure_sentry(
    dsn: str, environment: str, release: str | None, traces_sample_rate: float
) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), LoggingIntegration(event_level="ERROR")],
    )
