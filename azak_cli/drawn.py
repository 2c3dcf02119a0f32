"""What :mod:`azak_cli.progress` draws with rich: a bar's columns and a spinner. Imported only when
something is drawn on a terminal."""

import sys

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


def bar_progress(unit: str) -> Progress:
    """A bar with the rate in ``unit`` per second, the time left and the time spent, on standard
    output (not started)."""
    # every column keeps its line; only the note gives way (an ellipsis) in a narrow terminal
    def kept() -> Column:
        return Column(no_wrap=True)
    columns = (SpinnerColumn(table_column=kept()), TextColumn("{task.description}", table_column=kept()),
               BarColumn(table_column=kept()), MofNCompleteColumn(table_column=kept()),
               TextColumn(unit, table_column=kept()), Rate(unit), TextColumn("left", table_column=kept()),
               TimeRemainingColumn(table_column=kept()), TextColumn("spent", table_column=kept()),
               TimeElapsedColumn(table_column=kept()),
               TextColumn("{task.fields[note]}", table_column=Column(no_wrap=True, overflow="ellipsis")))
    return Progress(*columns, console=Console(file=sys.stdout), refresh_per_second=4)


def spinner_progress() -> Progress:
    """A spinner, a description and the time spent, on standard output."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("spent"), TimeElapsedColumn(),
                    console=Console(file=sys.stdout), refresh_per_second=4)
