"""Reprs that never show a secret, so a settings object in a log line or a traceback leaks nothing.

A field is a secret by its name (``password``, ``key``, ``*_key``, ``*_secret``, ``*_token``): its
value shows as ``***`` when set. A URL keeps everything but its password (``postgresql://azak:***@db/azak``).
Settings dataclasses take ``__repr__ = redacted_repr``; the pipelines' resources (pydantic) redact in
their ``__repr_args__`` with :func:`redacted`.
"""

import dataclasses
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"
SECRET_NAMES = ("password", "secret", "token", "_key", "_keys")


def is_secret(name: str) -> bool:
    return name == "key" or name.endswith(SECRET_NAMES)


def mask_url(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", f":{HIDDEN}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def redacted(name: str, value: Any) -> Any:
    """What a repr may show of the field ``name``."""
    if value is None or value == "":
        return value  # "not set" is worth seeing, and reveals nothing
    if is_secret(name):
        return HIDDEN
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def redacted_repr(self: Any) -> str:
    """A dataclass's repr with its secrets hidden (``__repr__ = redacted_repr`` in the class body)."""
    shown = ", ".join(f"{f.name}={redacted(f.name, getattr(self, f.name))!r}"
                      for f in dataclasses.fields(self) if f.repr)
    return f"{type(self).__name__}({shown})"
