"""What every news parser produces: items, rejected rows with reasons, and layout statistics."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from azak_pipelines.lib.calendar.krx_calendar import kst_day
from azak_pipelines.lib.quarantine import Rejected

__all__ = ["NewsItem", "ParseResult", "Rejected"]

CONTENT_TYPES = ("news", "disclosure", "social")


@dataclass(frozen=True)
class NewsItem:
    source: str  # naver_finance | hankyung | maeil | dart | reddit | file:<name>
    item_key: str  # stable within the source (e.g. "naver:056:0012076855")
    title: str
    summary: str
    url: str  # canonical
    press: str | None
    published_at: datetime  # aware
    content_type: str = "news"
    published_precision: str = "minute"  # minute | second | day (DART gives a date only)
    stock_code_hint: str | None = None  # the company the source itself names (DART, per-stock lists)
    extra: dict[str, Any] = field(default_factory=dict)
    body: str | None = None  # only when full bodies are opted in; never served by the API

    @property
    def published_day(self) -> date:
        return kst_day(self.published_at)


@dataclass
class ParseResult:
    """Items and rejects of one page or payload, with what the layout looked like."""

    items: list[NewsItem] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    rows_seen: int = 0  # rows the container selector matched
    missing: dict[str, int] = field(default_factory=dict)  # field (selector) -> rows lacking it
    container: str = ""  # the selector that finds rows

    def lack(self, selector: str) -> None:
        self.missing[selector] = self.missing.get(selector, 0) + 1

    def extend(self, other: "ParseResult") -> None:
        self.items.extend(other.items)
        self.rejected.extend(other.rejected)
        self.rows_seen += other.rows_seen
        for key, count in other.missing.items():
            self.missing[key] = self.missing.get(key, 0) + count
        self.container = self.container or other.container
