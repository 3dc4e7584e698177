"""Project slugs: the first part of an issue's short id (``SHOP-12``). Pure: no Django models.

A slug is unique within its organization only, so a short id tells nothing about another
organization, and two organizations can both have a ``shop``.
"""

from collections.abc import Container

from django.utils.text import slugify

SLUG_MAX_LENGTH = 50
DEFAULT_SLUG = "project"


def project_slug(name: str, taken: Container[str]) -> str:
    """A slug made from the project's ``name`` (``My Shop`` gives ``my-shop``) that is not in
    ``taken`` (the organization's other slugs): ``my-shop-2``, ``my-shop-3``... when it is."""
    base = slugify(name)[:SLUG_MAX_LENGTH].strip("-") or DEFAULT_SLUG
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = base[: SLUG_MAX_LENGTH - len(suffix)].rstrip("-") + suffix
    return candidate
