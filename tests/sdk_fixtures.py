"""The real SDK's captures: ../shared/fixtures/sdk/<version>/NNN.envelope and NNN.request.json.

Every version folder present is used, so a capture of a new SDK version is tested by adding it.
``SDK_FIXTURES_DIR`` points elsewhere when the shared folder is not beside the checkout.

Scenario captures (one browser session each, for one kind of issue) are in
../shared/fixtures/sdk-scenarios/<version>/<scenario>/, in the same shape; ``scenario_requests``
loads one scenario (``SDK_SCENARIOS_DIR`` points elsewhere). They are not among ``sdk_requests``:
the tests of the main capture count its segments and issues.
"""

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings

# Connection-level headers that the HTTP client under test sets for itself.
HOP_HEADERS = {"host", "content-length", "connection", "accept-encoding"}


@dataclass(frozen=True)
class SdkRequest:
    name: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def project_id(self) -> int:
        return int(urlsplit(self.path).path.strip("/").split("/")[1])

    @property
    def public_key(self) -> str:
        return parse_qs(urlsplit(self.path).query)["sentry_key"][0]

    @property
    def client_headers(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}


def fixtures_dir() -> Path:
    default = settings.BASE_DIR.parent / "shared" / "fixtures" / "sdk"
    return Path(os.environ.get("SDK_FIXTURES_DIR", default))


def scenarios_dir() -> Path:
    default = settings.BASE_DIR.parent / "shared" / "fixtures" / "sdk-scenarios"
    return Path(os.environ.get("SDK_SCENARIOS_DIR", default))


def _load(envelope_paths: list[Path], name_parts: int) -> tuple[SdkRequest, ...]:
    requests = []
    for envelope_path in envelope_paths:
        recorded = json.loads(envelope_path.with_suffix(".request.json").read_text())
        folders = envelope_path.parent.parts[-name_parts:]
        requests.append(
            SdkRequest(
                name="/".join([*folders, envelope_path.stem]),
                path=recorded["path"],
                headers=recorded["headers"],
                body=envelope_path.read_bytes(),
            )
        )
    return tuple(requests)


@cache
def sdk_requests() -> tuple[SdkRequest, ...]:
    requests = _load(sorted(fixtures_dir().glob("*/*.envelope")), 1)
    if not requests:
        raise RuntimeError(f"no SDK fixtures under {fixtures_dir()}: is ../shared beside the repo?")
    return requests


@cache
def scenario_requests(scenario: str) -> tuple[SdkRequest, ...]:
    """One scenario's captures, of every SDK version present, in capture order."""
    requests = _load(sorted(scenarios_dir().glob(f"*/{scenario}/*.envelope")), 2)
    if not requests:
        raise RuntimeError(f"no {scenario!r} captures under {scenarios_dir()}")
    return requests


def carries_replay(sdk_request: SdkRequest) -> bool:
    return b'"type":"replay_recording"' in sdk_request.body


def replay_requests() -> tuple[SdkRequest, ...]:
    """The captures that carry a replay segment (the others are sessions and the like)."""
    return tuple(r for r in sdk_requests() if carries_replay(r))


def scenario_replay_requests(scenario: str) -> tuple[SdkRequest, ...]:
    """A scenario's captures that carry a replay segment."""
    return tuple(r for r in scenario_requests(scenario) if carries_replay(r))


def other_requests() -> tuple[SdkRequest, ...]:
    return tuple(r for r in sdk_requests() if r not in replay_requests())
