"""Writes of a user's own API token (DRF's ``Token``: one per user, sent as
``Authorization: Token <key>``). The settings page shows a new key once, right after it is made;
afterwards only its first characters, so a key left on a screen is not readable later."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token

TOKEN_HINT_CHARS = 6


def api_token_create(user: AbstractBaseUser) -> str:
    """A new key for ``user``, replacing any former one (which stops working at once)."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user).key


def api_token_revoke(user: AbstractBaseUser) -> bool:
    """Delete ``user``'s key; whether there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)


def api_token_hint(user: AbstractBaseUser) -> str | None:
    """The start of ``user``'s key (``3f9a1c…``), or None without one."""
    key = Token.objects.filter(user=user).values_list("key", flat=True).first()
    return f"{key[:TOKEN_HINT_CHARS]}…" if key else None
