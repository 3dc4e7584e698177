"""Where the browser tests find Chromium, how they start it, and where their screenshots go.

Playwright drives Debian's ``chromium`` package and never downloads a browser of its own: the
tests need no network and use the same browser as a person on the machine would.
"""

import os
import shutil
from pathlib import Path

from django.conf import settings

DEBIAN_CHROMIUM = "/usr/bin/chromium"

# Headless and quiet: no sandbox (CI runs as root in a container), no GPU, and none of the
# background requests (updates, sync, QUIC probes) that would reach for the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

INSTALL_HINT = (
    "the browser tests need Chromium: install Debian's package (`apt-get install chromium`) "
    "or point CHROMIUM_PATH at a Chromium binary"
)


def chromium_path() -> str | None:
    """``CHROMIUM_PATH`` if set, else Debian's chromium, else ``chromium`` on the PATH."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access(DEBIAN_CHROMIUM, os.X_OK):
        return DEBIAN_CHROMIUM
    return shutil.which("chromium")


def screenshot_path(name: str) -> Path:
    """``var/test-artifacts/screenshots/<name>.png`` (``var/`` is git-ignored)."""
    folder = Path(settings.BASE_DIR) / "var" / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"
