"""Where the SDK's public key comes from: pure functions over the request's parts.

The key may come in the query string (``sentry_key``, the browser SDK's way), the
``X-Sentry-Auth`` header, an ``Authorization: Sentry ...`` header, or the envelope header's ``dsn``
(tunnels). As Relay does, a request that carries the key in more than one of its own places is
refused; the envelope's ``dsn`` is the fallback, and must agree with the request's key when both
are there.
"""

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from ingest.errors import Forbidden, MissingAuth

PUBLIC_KEY = re.compile(r"^[0-9a-f]{32}$")


def parse_sentry_auth(value: str) -> dict[str, str]:
    """Parse ``Sentry sentry_key=abc, sentry_version=7`` into its fields."""
    scheme, _, params = value.strip().partition(" ")
    if scheme.lower() != "sentry":
        return {}
    fields = {}
    for part in params.split(","):
        name, sep, field_value = part.strip().partition("=")
        if sep:
            fields[name.strip()] = field_value.strip()
    return fields


def request_key(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    """The public key that the request itself carries, from its single source; None if none."""
    found = {}
    if query.get("sentry_key"):
        found["the sentry_key query parameter"] = query["sentry_key"]
    for header in ("X-Sentry-Auth", "Authorization"):
        value = headers.get(header)
        key = parse_sentry_auth(value).get("sentry_key") if value else None
        if key:
            found[f"the {header} header"] = key
    if len(found) > 1:
        raise MissingAuth(
            f"the key was sent in more than one place ({', '.join(found)}): send it in only one"
        )
    return next(iter(found.values()), None)


def dsn_key(dsn: object, project_id: int) -> str | None:
    """The public key in the envelope header's ``dsn``, checked against the URL's project."""
    if not isinstance(dsn, str) or not dsn:
        return None
    try:
        parts = urlsplit(dsn)
        username = parts.username
    except ValueError:
        raise MissingAuth(f"the envelope header's dsn {dsn[:200]!r} is not a valid DSN") from None
    dsn_project = parts.path.rstrip("/").rpartition("/")[2]
    if dsn_project and dsn_project != str(project_id):
        raise Forbidden(
            f"the envelope header's dsn is for project {dsn_project[:50]!r}, "
            f"but it was sent to project {project_id}"
        )
    return username or None


def resolve_key(from_request: str | None, from_dsn: str | None) -> str:
    """The one public key to check, or ``MissingAuth`` saying what is missing or conflicting."""
    if from_request and from_dsn and from_request != from_dsn:
        raise MissingAuth("the request's key and the envelope header's dsn name different keys")
    key = from_request or from_dsn
    if not key:
        raise MissingAuth(
            "no public key: send it as ?sentry_key=, in X-Sentry-Auth, or in the envelope's dsn"
        )
    return key
