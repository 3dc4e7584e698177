"""Reads that the envelope endpoint needs: which project key a request authenticates with.

Keys are cached per process for ``INGEST_KEY_CACHE_TTL_S`` seconds, so an envelope costs no query
in the common case. A change saved in this process (the admin, a command) clears the cache at
once; other processes see it within the TTL.
"""

from dataclasses import dataclass

from ingest.auth import PUBLIC_KEY
from ingest.errors import Forbidden
from ingest.models import Project, ProjectKey
from ingest.rate_limits import RateLimit
from pipeline.ttl_cache import TtlCache

MAX_PROJECT_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """What a public key gives access to."""

    key_id: int
    project_id: int
    org_id: int
    is_active: bool
    rate_limit: RateLimit | None = None


# A key not found is asked for again each time: one made in another process works at once.
_grants: TtlCache[str, KeyGrant | None] = TtlCache("INGEST_KEY_CACHE_TTL_S", cache_none=False)
forget_cached_keys = _grants.clear


def _load_grant(public_key: str) -> KeyGrant | None:
    row = (
        ProjectKey.objects.filter(public_key=public_key)
        .values_list(
            "id",
            "project_id",
            "project__org_id",
            "is_active",
            "rate_limit_count",
            "rate_limit_window_s",
        )
        .first()
    )
    if row is None:
        return None
    key_id, project_id, org_id, is_active, limit_count, window_s = row
    limit = RateLimit(limit_count, window_s) if limit_count is not None else None
    return KeyGrant(key_id, project_id, org_id, is_active, limit)


def key_grant(public_key: str) -> KeyGrant | None:
    return _grants.get(public_key, _load_grant)


def authorize_key(project_id: int, public_key: str) -> KeyGrant:
    """The grant of ``public_key`` for project ``project_id``, else ``Forbidden`` saying why."""
    if not PUBLIC_KEY.match(public_key):
        raise Forbidden("the public key must be 32 lower-case hex digits, as in the DSN")
    grant = key_grant(public_key)
    if grant is None or grant.project_id != project_id:
        if project_id > MAX_PROJECT_ID or not Project.objects.filter(id=project_id).exists():
            raise Forbidden(f"project {project_id} does not exist")
        raise Forbidden(f"the public key is not a key of project {project_id}")
    if not grant.is_active:
        raise Forbidden("the public key is disabled")
    return grant
