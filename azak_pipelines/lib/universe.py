"""The KRX listing (universe) and the watch-list: parsing and validation, no I/O beyond files."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from azak_core.market import STOCK_CODE

MARKETS = {"KOSPI", "KOSDAQ", "KOSDAQ GLOBAL", "KONEX"}


class UniverseError(ValueError):
    """The listing file cannot be used as it is."""


@dataclass(frozen=True)
class Listing:
    code: str
    name: str
    market: str | None
    section: str | None
    industry: str | None
    listed_on: str | None
    close: int | None
    market_cap: int | None
    listed_shares: int | None


def _int_or_none(value: str, field: str, where: str) -> int | None:
    value = value.strip().replace(",", "")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise UniverseError(f"{where}: {field} is not an integer: {value!r}") from None


def read_listing(path: Path) -> list[Listing]:
    """Parse the bundled listing CSV; any bad row fails the whole file with its line number."""
    required = {"code", "name", "market", "section", "industry", "listed_on", "close",
                "market_cap", "listed_shares"}
    listings: list[Listing] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise UniverseError(f"{path}: missing columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            where = f"{path.name}:{line}"
            code = row["code"].strip()
            if not STOCK_CODE.match(code):
                raise UniverseError(f"{where}: stock code must be 6 characters [0-9A-Z], got {code!r}")
            if code in seen:
                raise UniverseError(f"{where}: stock code {code} appears twice")
            market = row["market"].strip()
            if market not in MARKETS:
                raise UniverseError(f"{where}: market must be one of {sorted(MARKETS)}, got {market!r}")
            seen.add(code)
            listings.append(
                Listing(
                    code=code,
                    name=row["name"].strip(),
                    market=market,
                    section=row["section"].strip() or None,
                    industry=row["industry"].strip() or None,
                    listed_on=row["listed_on"].strip() or None,
                    close=_int_or_none(row["close"], "close", where),
                    market_cap=_int_or_none(row["market_cap"], "market_cap", where),
                    listed_shares=_int_or_none(row["listed_shares"], "listed_shares", where),
                )
            )
    return listings


def read_watchlist(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        codes = [row["code"].strip() for row in csv.DictReader(handle)]
    bad = [c for c in codes if not STOCK_CODE.match(c)]
    if bad:
        raise UniverseError(f"{path}: invalid stock codes {bad}")
    return codes


@dataclass(frozen=True)
class WatchlistChange:
    """An admin's change to the watch-list (from the API's ``app.stock_watchlist``)."""

    code: str
    name: str | None
    market: str | None
    active: bool


def apply_watchlist(
    listings: Iterable[Listing], default_codes: Iterable[str], changes: Iterable[WatchlistChange]
) -> tuple[list[Listing], set[str]]:
    """Listings plus admin-added stocks, and the set of watched codes after admin changes."""
    by_code = {listing.code: listing for listing in listings}
    watched = set(default_codes)
    for change in changes:
        if change.active:
            watched.add(change.code)
        else:
            watched.discard(change.code)
        if change.code not in by_code:
            by_code[change.code] = Listing(
                change.code, change.name or change.code, change.market,
                None, None, None, None, None, None,
            )
    return sorted(by_code.values(), key=lambda item: item.code), watched
