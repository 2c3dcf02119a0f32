"""The sector indices Azak collects (seeds/kis_sectors.csv) against KIS's sector master."""

import pytest

from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR
from azak_pipelines.lib.kis.master import MasterFileError
from azak_pipelines.lib.kis.sectors import (
    Sector,
    SectorRecord,
    mapping_problems,
    parse_sector_master,
    read_sector_mapping,
    render_sector_master,
    unzip_sector_master,
    zip_sector_master,
)
from azak_pipelines.lib.sample_data import BUNDLED

MASTER = BUNDLED / "kis" / "master" / "idxcode.mst.zip"


def bundled_master() -> list[SectorRecord]:
    return unzip_sector_master(MASTER.read_bytes())


def test_every_mapped_sector_is_in_the_master_under_the_same_name():
    mapping = read_sector_mapping(DBT_PROJECT_DIR / "seeds")
    assert len(mapping) == 23 and len({s.code for s in mapping}) == 23
    assert mapping_problems(mapping, bundled_master()) == []


def test_a_renamed_or_retired_sector_is_named_with_what_to_fix():
    master = [r for r in bundled_master() if r.code != "0030"]
    master = [SectorRecord(r.division, r.code, "전기전자") if r.code == "0013" else r for r in master]
    problems = mapping_problems(read_sector_mapping(DBT_PROJECT_DIR / "seeds"), master)
    assert problems == [
        "0013: named '전기전자' in idxcode.mst, '전기·전자' in seeds/kis_sectors.csv; rename it there",
        "0030 (오락·문화): absent from idxcode.mst (division 0); retired or renumbered? fix seeds/kis_sectors.csv",
    ]


def test_a_code_is_looked_up_in_its_market_division():
    """1010 is KOSDAQ's 건설 (division 1): the legacy labels (1010-1026 as KOSPI sectors) fail."""
    legacy = [Sector("1010", "에너지", "KOSPI"), Sector("1010", "건설", "KOSDAQ"), Sector("0050", "KOSPI IT", "KOSPI")]
    problems = mapping_problems(legacy, bundled_master())
    assert problems[0].startswith("1010 (에너지): absent") and problems[1].startswith("0050 (KOSPI IT): absent")
    assert len(problems) == 2


def test_the_master_layout_round_trips_and_rejects_a_broken_record():
    records = bundled_master()
    data = render_sector_master(records)
    assert data.splitlines()[12] == "00013전기·전자".encode("cp949").ljust(45)  # 1 + 4 + 40 bytes
    assert parse_sector_master(data) == records
    assert zip_sector_master(data) == MASTER.read_bytes()  # the bundled zip is exactly this layout
    with pytest.raises(MasterFileError, match=r"idxcode\.mst:2: a record starts with a division"):
        parse_sector_master(data.splitlines()[0] + b"\nKOSPI 200\n")
