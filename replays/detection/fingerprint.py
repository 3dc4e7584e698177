"""Group the same broken element on the same kind of page: type, selector, route or URL path;
a hydration error by its type and page alone."""

import hashlib
import re
from urllib.parse import urlsplit

from replays.detection.classify import ClickType

# Path segments that identify one record rather than a kind of page.
_NUMBER = re.compile(r"\d+")
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_LONG_HEX = re.compile(r"(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{16,}")
_SCHEME_AND_HOST = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^/?#]*")


def normalize_path(url: str | None) -> str:
    """The URL's path with ids folded (``/orders/1234`` → ``/orders/{id}``); no scheme, host,
    query or fragment. Relative URLs (``/cart``, ``cart?x=1``) are read as paths."""
    if not url:
        return "/"
    try:
        path = urlsplit(url.strip()).path
    except ValueError:  # an invalid host (``http://[::1/x``): drop scheme and host by hand
        path = _SCHEME_AND_HOST.sub("", url.strip()).split("?", 1)[0].split("#", 1)[0]
    segments = []
    for segment in path.split("/"):
        if _NUMBER.fullmatch(segment):
            segment = "{id}"
        elif _UUID.fullmatch(segment):
            segment = "{uuid}"
        elif _LONG_HEX.fullmatch(segment):
            segment = "{hex}"
        segments.append(segment)
    normalized = "/".join(segments)
    if not normalized.startswith("/"):
        normalized = "/" + normalized
    if len(normalized) > 1:
        normalized = normalized.rstrip("/") or "/"
    return normalized


def fingerprint(
    click_type: ClickType, selector: str, route: str | None, url: str | None
) -> list[str]:
    """The issue platform's fingerprint: one issue per type, element and kind of page."""
    return [click_type.value, selector, page_of(route, url)]


def page_of(route: str | None, url: str | None) -> str:
    """The kind of page: the SDK's route if it sent one, else the URL's path with ids folded."""
    return route or normalize_path(url)


def hydration_fingerprint(type_slug: str, page: str) -> list[str]:
    """One issue per page that fails to hydrate (Sentry makes one per project)."""
    return [type_slug, page]


def fingerprint_hash(parts: list[str]) -> str:
    """A stable digest of a fingerprint: the message key, and what issues are grouped by."""
    return hashlib.md5("\x00".join(parts).encode(), usedforsecurity=False).hexdigest()
