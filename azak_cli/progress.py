"""Progress bars on the terminal (rich): shown only when standard output is a terminal and the
command was not asked for ``--json``; otherwise the commands print their usual lines and nothing
else reaches standard output."""

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text


def wanted(json_output: bool = False) -> bool:
    """Whether to draw bars: standard output is a terminal and is not the command's JSON answer."""
    return not json_output and sys.stdout.isatty()


# what the bar's columns other than the note take, at most: spinner, description, bar, counts, rate, times
FIXED_COLUMNS = 135


class Rate(ProgressColumn):
    """Units done per second, over rich's recent samples (the finished speed once done)."""

    def __init__(self, unit: str):
        super().__init__(table_column=Column(no_wrap=True))
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.2f} {self.unit}/s" if speed else f"-- {self.unit}/s", style="progress.data.speed")


class Bar:
    """One bar: ``update`` sets what is done (and the total, and a note after the bar). A disabled
    bar draws nothing."""

    def __init__(self, progress: Progress | None, description: str, total: int | None):
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
    # every column keeps its line; only the note gives way (an ellipsis) in a narrow terminal
    def kept() -> Column:
        return Column(no_wrap=True)
    columns = (SpinnerColumn(table_column=kept()), TextColumn("{task.description}", table_column=kept()),
               BarColumn(table_column=kept()), MofNCompleteColumn(table_column=kept()),
               TextColumn(unit, table_column=kept()), Rate(unit), TextColumn("left", table_column=kept()),
               TimeRemainingColumn(table_column=kept()), TextColumn("spent", table_column=kept()),
               TimeElapsedColumn(table_column=kept()),
               TextColumn("{task.fields[note]}", table_column=Column(no_wrap=True, overflow="ellipsis")))
    shown = Progress(*columns, console=Console(file=sys.stdout), refresh_per_second=4)
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
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("spent"), TimeElapsedColumn(),
                  console=Console(file=sys.stdout), refresh_per_second=4) as spinner:
        spinner.add_task(description, total=None)
        yield
