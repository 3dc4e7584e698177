"""Whole numbers read from a request (query strings, headers): ASCII digits only.

``str.isdigit()`` is true for superscripts (``²``) that ``int()`` refuses, and ``int()`` itself
takes other scripts' digits (Arabic-Indic ``\\u0661``), surrounding spaces, underscores
(``1_000``) and signs; a request's number is none of those. Past 4,300 digits ``int()`` raises,
so the length is bounded first.
"""

import re

_DIGITS = re.compile(r"[0-9]{1,18}")


def ascii_int(value: str | None) -> int | None:
    """``value`` as a non-negative int when it is 1 to 18 ASCII digits, else None."""
    if value is None or not _DIGITS.fullmatch(value):
        return None
    return int(value)
