"""Build the replay sample of the KIS master files from the bundled KRX listing.

Three weekly-refresh snapshots in the published layout (``lib/kis/master.py``):

- 2025-09-26: the bundled listing (``universe/krx_listed_2025_09.csv``) as it is;
- 2025-10-31: two new listings, one rename, one delisting;
- 2025-11-28: the delisted code reused by a newly listed company, one more new listing.

The events are made up for the replay (the companies 누리셀바이오, 한울로보틱스, 세진모빌리티,
미르에이아이 and the rename of 우리기술 are not real); the sample README says so.

    python scripts/build_universe_replay.py
"""

import csv
from datetime import date
from pathlib import Path

from azak_pipelines.lib.kis.master import FILES, MasterRecord, isin_of, render_master, zip_master

ROOT = Path(__file__).resolve().parents[1]
UNIVERSE = ROOT / "azak_pipelines" / "sample_data" / "universe"


def base_records() -> list[MasterRecord]:
    records = []
    with (UNIVERSE / "krx_listed_2025_09.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            market = "KOSDAQ" if row["market"].startswith("KOSDAQ") else row["market"]
            shares = int(row["listed_shares"]) if row["listed_shares"] else None
            if shares is not None and market != "KOSPI":
                shares //= 1000  # KOSDAQ and KONEX masters count shares in thousands
            group = "RT" if "리츠" in row["name"] else ("IF" if "인프라" in row["name"] else "ST")
            records.append(MasterRecord(
                row["code"], isin_of(row["code"]), row["name"], market, group,
                date.fromisoformat(row["listed_on"]) if row["listed_on"] else None, shares,
                int(row["close"]) if row["close"] else None,
                int(row["market_cap"]) // 100_000_000 if row["market_cap"] else None, False, False))
    return records


def new(code: str, name: str, market: str, listed: date, price: int, shares: int) -> MasterRecord:
    return MasterRecord(code, isin_of(code), name, market, "ST", listed, shares, price,
                        price * shares * (1000 if market != "KOSPI" else 1) // 100_000_000, False, False)


def snapshots() -> dict[str, list[MasterRecord]]:
    september = base_records()
    october = [r for r in september if r.code != "0041L0"]  # 하나35호스팩 delisted
    october = [MasterRecord(**{**r.__dict__, "name": "우리에너지기술"}) if r.code == "032820" else r
               for r in october]
    october += [new("0099A0", "누리셀바이오", "KOSDAQ", date(2025, 10, 22), 21_500, 18_400),
                new("0101B0", "한울로보틱스", "KOSPI", date(2025, 10, 29), 34_000, 41_250_000)]
    november = [*october, new("0041L0", "세진모빌리티", "KOSDAQ", date(2025, 11, 19), 12_800, 22_700),
                new("0117C0", "미르에이아이", "KOSDAQ", date(2025, 11, 25), 18_000, 9_650)]
    return {"2025-09-26": september, "2025-10-31": october, "2025-11-28": november}


def main() -> None:
    for day, records in snapshots().items():
        folder = UNIVERSE / "kis_master" / day
        folder.mkdir(parents=True, exist_ok=True)
        for market, name in FILES.items():
            chosen = sorted((r for r in records if r.market == market), key=lambda r: r.code)
            (folder / f"{name}.zip").write_bytes(zip_master(render_master(chosen, market), market))
        print(day, len(records), "records")


if __name__ == "__main__":
    main()
