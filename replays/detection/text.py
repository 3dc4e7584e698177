"""Strings the detection core keeps: what every stored string goes through."""


def without_nul(text: str) -> str:
    """``text`` without NUL characters: PostgreSQL's text and jsonb cannot store them, and the
    issues stage refuses an occurrence that holds one."""
    return text.replace("\x00", "") if "\x00" in text else text
