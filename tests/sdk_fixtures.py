"""The real SDK's captures: ../shared/fixtures/sdk/<version>/NNN.envelope and NNN.request.json.

Every version folder present is used, so a capture of a new SDK version is tested by adding it.
``SDK_FIXTURES_DIR`` points elsewhere when the shared folder is not beside the checkout.
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


@cache
def sdk_requests() -> tuple[SdkRequest, ...]:
    requests = []
    for envelope_path in sorted(fixtures_dir().glob("*/*.envelope")):
        recorded = json.loads(envelope_path.with_suffix(".request.json").read_text())
        requests.append(
            SdkRequest(
                name=f"{envelope_path.parent.name}/{envelope_path.stem}",
                path=recorded["path"],
                headers=recorded["headers"],
                body=envelope_path.read_bytes(),
            )
        )
    if not requests:
        raise RuntimeError(f"no SDK fixtures under {fixtures_dir()}: is ../shared beside the repo?")
    return tuple(requests)


def replay_requests() -> tuple[SdkRequest, ...]:
    """The captures that carry a replay segment (the others are sessions and the like)."""
    return tuple(r for r in sdk_requests() if b'"type":"replay_recording"' in r.body)


def other_requests() -> tuple[SdkRequest, ...]:
    return tuple(r for r in sdk_requests() if r not in replay_requests())
