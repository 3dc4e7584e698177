"""The issues stage's "now" for the rules that wait for a time (an ignore until a date).

``ISSUES_NOW`` (an ISO 8601 time, tests only) freezes it, so a test moves the clock past an
ignore's end without sleeping; unset, it is the real time."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone


def now() -> datetime:
    frozen = getattr(settings, "ISSUES_NOW", None)
    if frozen:
        return frozen if isinstance(frozen, datetime) else datetime.fromisoformat(frozen)
    return timezone.now()
