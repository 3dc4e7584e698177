"""Fingerprints: what the issue platform groups occurrences by.

A click's fingerprint is versioned (``FINGERPRINT_VERSION``) and holds two strings, each hashed on
its own by the issues stage (the issue platform's semantics: an occurrence joins the issue of the
first of its hashes that exists; a new issue gets them all):

1. ``v2 <type> <element identity> [page=...]``: the element as ``element_identity`` names it,
   which a deploy that regenerates class names does not change; the page only for a weak one.
2. the legacy (version 1) fingerprint ``[type, selector, page]``, written ``v1 <JSON list>``: its
   hash is the MD5 of the parts joined by NUL, the hash every issue made before version 2 has. An
   upgrade thus finds the existing issue and adds the version 2 hash to it. (The NUL-joined string
   itself cannot travel: the issues stage and PostgreSQL refuse NUL characters.)

A hydration error's fingerprint is ``[type, page]``, unversioned, as before.
"""

import hashlib
import re
from urllib.parse import urlsplit

import orjson

from replays.detection.classify import ClickType
from replays.detection.element_identity import ElementIdentity

FINGERPRINT_VERSION = 2
LEGACY_PREFIX = "v1 "

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
    click_type: ClickType | str,
    identity: ElementIdentity,
    element: str,
    route: str | None,
    url: str | None,
) -> list[str]:
    """A click's fingerprint: its version 2 identity, then its legacy one (``element``: the
    selector as version 1 grouped it, with every element name folded)."""
    page = page_of(route, url)
    slug = str(click_type)  # a ClickType, or the slug of another click type (error clicks)
    current = f"v{FINGERPRINT_VERSION} {slug} {identity.describe()}"
    if not identity.strong:
        current += f" page={orjson.dumps(page).decode()}"
    return [current, legacy_entry([slug, element, page])]


def legacy_entry(parts: list[str]) -> str:
    """A version 1 fingerprint as one string of a versioned fingerprint."""
    return LEGACY_PREFIX + orjson.dumps(parts).decode()


def legacy_parts(entry: str) -> list[str] | None:
    """The parts of a ``legacy_entry``, or None when ``entry`` is not one."""
    if not entry.startswith(LEGACY_PREFIX):
        return None
    try:
        parts = orjson.loads(entry[len(LEGACY_PREFIX) :])
    except orjson.JSONDecodeError:
        return None
    if isinstance(parts, list) and parts and all(isinstance(part, str) for part in parts):
        return parts
    return None


def page_of(route: str | None, url: str | None) -> str:
    """The kind of page: the SDK's route if it sent one, else the URL's path with ids folded."""
    return route or normalize_path(url)


def hydration_fingerprint(type_slug: str, page: str) -> list[str]:
    """One issue per page that fails to hydrate (Sentry makes one per project)."""
    return [type_slug, page]


def fingerprint_hash(parts: list[str]) -> str:
    """A stable digest of a fingerprint's parts joined by NUL: the message key, and the hash of a
    version 1 (unversioned) fingerprint, by which issues made before version 2 are found."""
    return hashlib.md5("\x00".join(parts).encode(), usedforsecurity=False).hexdigest()
