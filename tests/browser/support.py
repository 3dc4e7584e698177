"""Where the browser tests find Chromium, how they start it, and where their screenshots go.

Playwright drives Debian's ``chromium`` package and never downloads a browser of its own: the
tests need no network and use the same browser as a person on the machine would.
"""

import os
import shutil
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Locator, Page

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


def box_inside(inner: Locator, outer: Locator) -> bool:
    """Whether ``inner`` is drawn wholly within ``outer`` (half a pixel of rounding allowed)."""
    a, b = inner.bounding_box(), outer.bounding_box()
    assert a is not None, "the inner element is not displayed"
    assert b is not None, "the outer element is not displayed"
    return (
        a["x"] >= b["x"] - 0.5
        and a["y"] >= b["y"] - 0.5
        and a["x"] + a["width"] <= b["x"] + b["width"] + 0.5
        and a["y"] + a["height"] <= b["y"] + b["height"] + 0.5
    )


# Each ``.table`` cell that reaches past the right edge of what holds the table: the card
# (``.card.flush`` clips what overflows it) or, outside a card, the table's parent block.
_CELLS_PAST_THEIR_BOX = """() => Array.from(document.querySelectorAll("table.table")).flatMap(
  (table) => {
    const right = (table.closest(".card") || table.parentElement).getBoundingClientRect().right;
    return Array.from(table.querySelectorAll("th, td"))
      .filter((cell) => cell.getBoundingClientRect().right > right + 0.5)
      .map((cell) => (table.dataset.testid || table.className) + ": " + cell.textContent.trim());
  })"""


def cells_past_their_box(page: Page) -> list[str]:
    """What is cut off or pushed out of sight on the page: each table cell past its table's box
    (as "<table>: <text>"), and "the page scrolls sideways" if it does. Empty when all fits."""
    cut = page.evaluate(_CELLS_PAST_THEIR_BOX)
    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
        cut.append("the page scrolls sideways")
    return cut
