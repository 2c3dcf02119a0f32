"""Live or replay: how each source decides, from its settings, at run time."""

MODES = ("auto", "live", "replay")


class SourceConfigError(ValueError):
    """A source's settings are inconsistent; the message names the variables."""


def resolve_mode(source: str, requested: str, credentials: dict[str, str]) -> str:
    """``live`` or ``replay`` for ``source``.

    ``requested`` is ``auto`` (live when every credential is set, replay otherwise), ``live`` or
    ``replay``; ``credentials`` maps each credential's variable name to its value. Asking for
    ``live`` without credentials fails with the missing variables named.
    """
    mode = (requested or "auto").strip().lower()
    if mode not in MODES:
        raise SourceConfigError(f"AZAK_{source.upper()}_MODE / AZAK_SOURCE_MODE must be one of {MODES}, "
                                f"got {requested!r}")
    missing = [var for var, value in credentials.items() if not value.strip()]
    if mode == "live" and missing:
        raise SourceConfigError(f"{source} is set to live but {', '.join(missing)} is not set")
    if mode == "auto":
        return "replay" if missing else "live"
    return mode
