"""Progress bars on the terminal (rich): shown only when standard output is a terminal and the
command was not asked for ``--json``; otherwise the commands print their usual lines and nothing
else reaches standard output."""

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

# rich is imported only to draw (azak_cli/drawn.py): a command whose output is not a terminal, or
# that prints JSON, does not pay for importing it (~0.1 s of CPU)


def wanted(json_output: bool = False) -> bool:
    """Whether to draw bars: standard output is a terminal and is not the command's JSON answer."""
    return not json_output and sys.stdout.isatty()


class Bar:
    """One bar: ``update`` sets what is done (and the total, and a note after the bar). A disabled
    bar draws nothing."""

    def __init__(self, progress: "Progress | None", description: str, total: int | None):
        self.progress = progress
        self.task = progress.add_task(description, total=total, note="") if progress else None

    def update(self, done: int, total: int | None = None, note: str | None = None) -> None:
        if self.progress is None or self.task is None:
            return
        if total is not None:
            self.progress.update(self.task, total=total)
        if note is not None:
            self.progress.update(self.task, note=self.fitted(note))
        self.progress.update(self.task, completed=done)

    def fitted(self, note: str) -> str:
        """The note cut to the room the bar's other columns leave (rich would squeeze them instead)."""
        from azak_cli.drawn import FIXED_COLUMNS

        room = (self.progress.console.width if self.progress else 200) - FIXED_COLUMNS
        return note if len(note) <= room else note[:max(room - 1, 0)] + "…"

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def open_bar(description: str, total: int | None, unit: str, enabled: bool) -> Bar:
    """A bar from 0 to ``total`` (None: not known yet, the bar pulses) with the rate in ``unit`` per
    second, the time left and the time spent, drawn on standard output until ``stop``."""
    if not enabled:
        return Bar(None, description, total)
    from azak_cli.drawn import bar_progress

    shown = bar_progress(unit)
    shown.start()
    return Bar(shown, description, total)


@contextmanager
def bar(description: str, total: int | None, unit: str, enabled: bool) -> Iterator[Bar]:
    """:func:`open_bar`, stopped on the way out."""
    shown = open_bar(description, total, unit, enabled)
    try:
        yield shown
    finally:
        shown.stop()


def each_file(paths: Iterable[Path], what: str, enabled: bool) -> Iterator[Path]:
    """``paths`` one by one, with a bar of files done (the current file's name beside it)."""
    paths = list(paths)
    with bar(what, len(paths), "files", enabled) as files:
        for done, path in enumerate(paths):
            files.update(done, note=path.name)
            yield path
        files.update(len(paths), note="")


@contextmanager
def working(description: str, enabled: bool) -> Iterator[None]:
    """A spinner and the time spent while one step whose progress is not known runs (a run in this
    process)."""
    if not enabled:
        yield
        return
    from azak_cli.drawn import spinner_progress

    with spinner_progress() as spinner:
        spinner.add_task(description, total=None)
        yield
