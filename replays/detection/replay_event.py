"""The segment's replay_event: who, where, which release; the replay's side of the merge."""

from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import orjson

from replays.detection.errors import InvalidSegment
from replays.detection.tags import bounded_tags, merged_tags
from replays.detection.text import without_nul
from replays.detection.user_agent import Client, parse_user_agent

MAX_TAG_CHARS = 200
MAX_URL_CHARS = 2048
MAX_LIST_ITEMS = 100
# The SDK's replay_event is about 1 KB; ingest refuses one over 1 MiB. A longer one from another
# producer is not parsed: JSON costs up to 20 times its size as Python objects.
MAX_REPLAY_EVENT_BYTES = 1024 * 1024
_NUMBER = (int, float)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class User:
    id: str | None = None
    email: str | None = None
    username: str | None = None
    ip_address: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {key: value for key in self.__slots__ if (value := getattr(self, key))}

    @property
    def key(self) -> str | None:
        """What counts one user: the id, else the email, the username, the IP address."""
        return self.id or self.email or self.username or self.ip_address


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    """The fields of the SDK's replay_event that detection and storage use, typed and bounded."""

    replay_start_timestamp: float | None = None
    timestamp: float | None = None
    urls: tuple[str, ...] = ()
    error_ids: tuple[str, ...] = ()
    trace_ids: tuple[str, ...] = ()
    replay_type: str | None = None
    environment: str | None = None
    release: str | None = None
    dist: str | None = None
    platform: str | None = None
    sdk_name: str | None = None
    sdk_version: str | None = None
    request_url: str | None = None
    user_agent: str | None = None
    user: User = field(default_factory=User)
    client: Client = field(default_factory=Client)
    # The app's tags (``Sentry.setTag``) and its ``transaction``, bounded: read once per segment.
    tags: dict[str, str] = field(default_factory=dict)


def parse_replay_event(raw: bytes | None) -> ReplayEvent:
    """The replay_event's fields; an absent replay_event gives an empty one (older producers)."""
    if not raw:
        return ReplayEvent()
    if len(raw) > MAX_REPLAY_EVENT_BYTES:
        raise InvalidSegment(f"the replay_event is larger than {MAX_REPLAY_EVENT_BYTES} bytes")
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidSegment("the replay_event is not valid JSON") from None
    if not isinstance(event, dict):
        raise InvalidSegment("the replay_event is not a JSON object")
    request = _dict(event.get("request"))
    headers = request.get("headers")
    user_agent = _header(headers, "user-agent")
    sdk = _dict(event.get("sdk"))
    return ReplayEvent(
        replay_start_timestamp=_seconds(event.get("replay_start_timestamp")),
        timestamp=_seconds(event.get("timestamp")),
        urls=_strings(event.get("urls"), MAX_URL_CHARS),
        error_ids=_strings(event.get("error_ids"), 64),
        trace_ids=_strings(event.get("trace_ids"), 64),
        replay_type=_text(event.get("replay_type")),
        environment=_text(event.get("environment")),
        release=_text(event.get("release")),
        dist=_text(event.get("dist")),
        platform=_text(event.get("platform")),
        sdk_name=_text(sdk.get("name")),
        sdk_version=_text(sdk.get("version")),
        request_url=_text(request.get("url"), MAX_URL_CHARS),
        user_agent=user_agent,
        user=_user(event.get("user")),
        client=parse_user_agent(user_agent),
        tags=_tags(event),
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = MAX_TAG_CHARS) -> str | None:
    if isinstance(value, str):
        return without_nul(value[:limit]) or None
    if isinstance(value, _NUMBER) and not isinstance(value, bool):
        return str(value)[:limit]
    return None


def _seconds(value: Any) -> float | None:
    if isinstance(value, _NUMBER) and not isinstance(value, bool) and 0 < value < 1e11:
        return float(value)
    return None


def _strings(value: Any, limit: int) -> tuple[str, ...]:
    if not value or not isinstance(value, list):  # most segments' error_ids and trace_ids: []
        return ()
    items = (without_nul(item[:limit]) for item in value[:MAX_LIST_ITEMS] if isinstance(item, str))
    return tuple(item for item in items if item)


def _header(headers: Any, name: str) -> str | None:
    """A request header by name, whatever its case (the SDK sends ``User-Agent``)."""
    if isinstance(headers, dict):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == name and isinstance(value, str):
                return without_nul(value[:512])
    elif isinstance(headers, list):  # Relay's normalized form: [[name, value], ...]
        for pair in headers:
            if isinstance(pair, list) and len(pair) == 2 and str(pair[0]).lower() == name:
                return _text(pair[1], 512)
    return None


def _tags(event: dict[str, Any]) -> dict[str, str]:
    """The replay_event's ``tags``, and its ``transaction`` (the page's name, which the SDK sends
    beside them) as the ``transaction`` tag, as Sentry files it."""
    tags, transaction = event.get("tags"), event.get("transaction")
    if tags is None and transaction is None:  # the SDK's usual replay_event: nothing to do
        return {}
    return merged_tags({"transaction": transaction}, bounded_tags(tags))


def _user(value: Any) -> User:
    user = _dict(value)
    return User(
        id=_text(user.get("id")),
        email=_text(user.get("email")),
        username=_text(user.get("username")),
        ip_address=_text(user.get("ip_address"), 64),
    )


def replay_event_to_dict(event: ReplayEvent) -> dict[str, Any]:
    """The parsed replay_event as JSON for the segment's row: what reprocessing reads back
    (already bounded by parsing: about the size of the SDK's own)."""
    return asdict(event)


def replay_event_from_dict(value: dict[str, Any]) -> ReplayEvent:
    """A stored replay_event back; a field it lacks (stored by an older version) is empty, a field
    it has that this version no longer knows is dropped."""
    fields = {name: value[name] for name in ReplayEvent.__dataclass_fields__ if name in value}
    for name in ("urls", "error_ids", "trace_ids"):
        if name in fields:
            fields[name] = tuple(fields[name])
    fields["user"] = _known(User, fields.get("user"))
    fields["client"] = _known(Client, fields.get("client"))
    return ReplayEvent(**fields)


def _known(cls: type[_T], value: Any) -> _T:
    value = _dict(value)
    return cls(**{name: value[name] for name in cls.__dataclass_fields__ if name in value})
