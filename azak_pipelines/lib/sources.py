"""Live or replay: how each source decides, from the environment, at run time."""

import os

MODES = ("auto", "live", "replay")


class SourceConfigError(ValueError):
    """A source's settings are inconsistent; the message names the variables."""


def source_mode(source: str, credential_vars: tuple[str, ...]) -> str:
    """``live`` or ``replay`` for ``source``.

    ``AZAK_SOURCE_MODE`` (or ``AZAK_<SOURCE>_MODE``) is ``auto`` by default: live when every
    credential variable is set, replay otherwise. Asking for ``live`` without credentials fails.
    """
    specific = f"AZAK_{source.upper()}_MODE"
    mode = (os.environ.get(specific) or os.environ.get("AZAK_SOURCE_MODE") or "auto").strip().lower()
    if mode not in MODES:
        raise SourceConfigError(f"{specific} / AZAK_SOURCE_MODE must be one of {MODES}, got {mode!r}")
    have = all(os.environ.get(var, "").strip() for var in credential_vars)
    if mode == "live" and not have:
        missing = [var for var in credential_vars if not os.environ.get(var, "").strip()]
        raise SourceConfigError(f"{source} is set to live but {', '.join(missing)} is not set")
    if mode == "auto":
        return "live" if have else "replay"
    return mode


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()
