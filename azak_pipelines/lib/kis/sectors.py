"""KIS's sector (업종) master and the sector indices Azak collects, checked against it.

``https://new.real.download.dws.co.kr/common/master/idxcode.mst.zip`` holds ``idxcode.mst``, CP949,
one record per line (layout in koreainvestment/open-trading-api ``stocks_info/업종코드정보.h``):
a market division (1 byte: 0 KOSPI, 1 KOSDAQ, 2 KOSPI 200 family, …), the index code (4) and the
name padded to 40 bytes. ``00013전기·전자`` is KOSPI's 전기·전자 index, code ``0013``.

The codes and names Azak collects are the dbt seed ``seeds/kis_sectors.csv`` (the API and the
marts read the names from there); :func:`mapping_problems` says where that mapping and a master
disagree, so a renamed or retired sector is caught instead of shown under a stale name.
"""

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from azak_pipelines.lib.http import HttpClient
from azak_pipelines.lib.kis.master import LIVE_BASE_URL, MASTER_MAX_BYTES, MASTER_ZIP_MAX_BYTES, MasterFileError
from azak_pipelines.lib.zips import ArchiveTooLarge, read_member

FILE = "idxcode.mst"
NAME_BYTES = 40
SECTOR_SEED = "kis_sectors.csv"


@dataclass(frozen=True)
class SectorRecord:
    division: str  # 0 KOSPI, 1 KOSDAQ, 2 KOSPI 200 family, 3 KOSDAQ 150, 4 KRX, 6 others
    code: str
    name: str


def parse_sector_master(data: bytes) -> list[SectorRecord]:
    """``idxcode.mst`` (CP949 bytes) as records; a malformed line raises with its number."""
    records = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        head, name = raw[:5], raw[5:5 + NAME_BYTES]
        if len(head) < 5 or not head.decode("ascii", "replace").isdigit():
            raise MasterFileError(f"{FILE}:{number}: a record starts with a division and a 4-digit code, "
                                  f"got {raw[:12]!r}")
        try:
            text = name.decode("cp949").strip()
        except UnicodeDecodeError as exc:
            raise MasterFileError(f"{FILE}:{number}: the name is not CP949 at byte {exc.start}") from None
        records.append(SectorRecord(head[:1].decode(), head[1:5].decode(), text))
    return records


def render_sector_master(records: list[SectorRecord]) -> bytes:
    """Records in the published layout (the bundled sample and the live-mode tests' server use it)."""
    lines = []
    for record in records:
        name = record.name.encode("cp949")
        if len(record.division) != 1 or len(record.code) != 4 or len(name) > NAME_BYTES:
            raise MasterFileError(f"{record} does not fit the idxcode.mst layout (1 + 4 + {NAME_BYTES} bytes)")
        lines.append(record.division.encode() + record.code.encode() + name.ljust(NAME_BYTES))
    return b"\n".join(lines) + b"\n"


def zip_sector_master(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # a fixed timestamp: the same records always make the same bytes
        archive.writestr(zipfile.ZipInfo(FILE, date_time=(2025, 1, 1, 0, 0, 0)), data,
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def unzip_sector_master(data: bytes) -> list[SectorRecord]:
    try:
        content = read_member(data, lambda member: member == FILE, MASTER_MAX_BYTES)
    except (zipfile.BadZipFile, ArchiveTooLarge) as exc:
        raise MasterFileError(f"{FILE}.zip: {exc}") from None
    if content is None:
        raise MasterFileError(f"{FILE}.zip: the archive holds no {FILE}")
    return parse_sector_master(content)


async def fetch_sector_master(client: HttpClient, base_url: str = LIVE_BASE_URL) -> list[SectorRecord]:
    """Download and parse KIS's sector master (live mode)."""
    url = base_url.rstrip("/") + f"/{FILE}.zip"
    response = await client.get(url, max_bytes=MASTER_ZIP_MAX_BYTES)
    if response.status_code != 200:
        raise MasterFileError(f"GET {url} answered HTTP {response.status_code}")
    return unzip_sector_master(response.content)


@dataclass(frozen=True)
class Sector:
    code: str
    name: str
    market: str


def read_sector_mapping(seeds: Path) -> list[Sector]:
    """The sector indices Azak collects: ``seeds/kis_sectors.csv``."""
    with (seeds / SECTOR_SEED).open(encoding="utf-8", newline="") as handle:
        return [Sector(row["index_code"], row["index_name"], row["market"]) for row in csv.DictReader(handle)]


DIVISION = {"KOSPI": "0", "KOSDAQ": "1"}


def mapping_problems(mapping: list[Sector], master: list[SectorRecord]) -> list[str]:
    """Where the mapping and the master disagree: a code the master lacks (in the sector's market
    division), or a name spelled differently. Empty when they agree."""
    names = {(r.division, r.code): r.name for r in master}
    problems = []
    for sector in mapping:
        division = DIVISION.get(sector.market)
        found = names.get((division or "", sector.code))
        if division is None:
            problems.append(f"{sector.code}: market {sector.market!r} is not one of {sorted(DIVISION)}")
        elif found is None:
            problems.append(f"{sector.code} ({sector.name}): absent from {FILE} (division {division}); "
                            "retired or renumbered? fix seeds/kis_sectors.csv")
        elif found != sector.name:
            problems.append(f"{sector.code}: named {found!r} in {FILE}, {sector.name!r} in "
                            "seeds/kis_sectors.csv; rename it there")
    return problems
