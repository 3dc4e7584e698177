"""Browser, OS and device from a User-Agent (the SDK does not send them): ua-parser, cached."""

from dataclasses import dataclass
from functools import lru_cache

import ua_parser

MAX_USER_AGENT_CHARS = 512
# Families that are another browser's automation mode, reported as that browser.
_BROWSER_ALIASES = {"HeadlessChrome": "Chrome", "Chrome Headless": "Chrome"}
_UNKNOWN = "Other"


@dataclass(frozen=True, slots=True)
class Client:
    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    os_version: str | None = None
    device: str | None = None
    device_brand: str | None = None
    device_model: str | None = None


def _version(*parts: str | None) -> str | None:
    kept = [part for part in parts if part]
    return ".".join(kept) or None


def load_parser() -> None:
    """Build ua-parser's global parser now (about 0.3 s and 27 MB, once per process) instead of
    while the first segment waits: a consumer calls it on starting."""
    ua_parser.parser  # noqa: B018 (the module builds it on first access)


@lru_cache(maxsize=4096)
def parse_user_agent(user_agent: str | None) -> Client:
    """The client a User-Agent names; unknown parts are None. Each distinct string is parsed once
    per process: a replay sends the same one with every segment."""
    if not user_agent:
        return Client()
    parsed = ua_parser.parse(user_agent[:MAX_USER_AGENT_CHARS])
    browser = parsed.user_agent
    os = parsed.os
    device = parsed.device
    browser_family = browser.family if browser and browser.family != _UNKNOWN else None
    return Client(
        browser=_BROWSER_ALIASES.get(browser_family or "", browser_family),
        browser_version=_version(browser.major, browser.minor, browser.patch) if browser else None,
        os=os.family if os and os.family != _UNKNOWN else None,
        os_version=_version(os.major, os.minor, os.patch) if os else None,
        device=device.family if device and device.family != _UNKNOWN else None,
        device_brand=device.brand if device else None,
        device_model=device.model if device else None,
    )
