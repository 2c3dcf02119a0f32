"""Argument types and checks several commands share."""

import argparse
from datetime import date
from pathlib import Path

from azak_cli.errors import UsageError


def iso_date(text: str) -> date:
    """An ``argparse`` type: a YYYY-MM-DD day."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def input_path(path: str) -> str:
    """A file to read, or ``-`` for standard input."""
    if path != "-" and not Path(path).is_file():
        raise UsageError(f"no such file: {path}")
    return path
