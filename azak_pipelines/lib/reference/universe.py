"""The KRX listing (universe) and the watch-list: parsing and validation, no I/O beyond files."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from azak_core.market import STOCK_CODE
from azak_pipelines.lib.kis.master import FILES, MasterRecord, parse_master, unzip_master
from azak_pipelines.lib.reference.listing_history import SnapshotRow

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


# -- the KIS master files as the listing source --------------------------------------------------


def read_master_snapshots(folder: Path) -> list[tuple[date, list[MasterRecord]]]:
    """The replay sample: ``<folder>/<YYYY-MM-DD>/{kospi,kosdaq,konex}_code.mst.zip``, oldest first."""
    snapshots = []
    for day_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        try:
            day = date.fromisoformat(day_dir.name)
        except ValueError:
            raise UniverseError(f"{day_dir}: snapshot folders are named YYYY-MM-DD") from None
        records: list[MasterRecord] = []
        for market, name in FILES.items():
            path = day_dir / f"{name}.zip"
            if not path.exists():
                raise UniverseError(f"{path} is missing: a snapshot holds the three master files")
            records += parse_master(unzip_master(path.read_bytes(), market), market)
        snapshots.append((day, records))
    if not snapshots:
        raise UniverseError(f"{folder}: no snapshot folders")
    return snapshots


def snapshot_rows(records: Iterable[MasterRecord]) -> list[SnapshotRow]:
    """Companies' shares only (no ETF, ETN, ELW or warrants)."""
    return [SnapshotRow(r.code, r.name, r.market, r.isin, r.listed_on) for r in records if r.is_share]


def listings_from_masters(records: Iterable[MasterRecord], known: dict[str, Listing]) -> list[Listing]:
    """The current listing from master records; section, industry and the KRX figures come from
    ``known`` (the bundled KRX export, or the previous ``raw.stocks``) where the code is there."""
    out = []
    for r in records:
        if not r.is_share:
            continue
        before = known.get(r.code)
        shares = r.listed_shares if r.market == "KOSPI" or r.listed_shares is None else r.listed_shares * 1000
        if before is not None:
            out.append(Listing(r.code, r.name, before.market or r.market, before.section, before.industry,
                               before.listed_on or (r.listed_on.isoformat() if r.listed_on else None),
                               before.close, before.market_cap, before.listed_shares))
        else:
            out.append(Listing(r.code, r.name, r.market, None, None,
                               r.listed_on.isoformat() if r.listed_on else None, r.base_price,
                               r.market_cap_100m * 100_000_000 if r.market_cap_100m is not None else None,
                               shares))
    return out
