"""Write the bundled sample of KIS's sector master, ``sample_data/kis/master/idxcode.mst.zip``.

The rows are facts — division, index code and name as KIS's ``idxcode.mst`` published them in 2025
(KOSPI's sectors as KRX renamed them that year: 음식료·담배, 전기·전자, …) — for the KOSPI and
KOSDAQ divisions and the KOSPI 200 headline indices, in the published layout
(``lib/kis/sectors.py``). The live run reads the master itself; this sample is what the replay
and the mapping test check ``seeds/kis_sectors.csv`` against.

    python scripts/build_sector_master.py
"""

from pathlib import Path

from azak_pipelines.lib.kis.sectors import SectorRecord, render_sector_master, zip_sector_master

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "azak_pipelines" / "sample_data" / "kis" / "master" / "idxcode.mst.zip"

KOSPI = """0001 종합|0002 대형주|0003 중형주|0004 소형주|0005 음식료·담배|0006 섬유·의류|0007 종이·목재|0008 화학|
0009 제약|0010 비금속|0011 금속|0012 기계·장비|0013 전기·전자|0014 의료·정밀기기|0015 운송장비·부품|0016 유통|
0017 전기·가스|0018 건설|0019 운송·창고|0020 통신|0021 금융|0024 증권|0025 보험|0026 일반서비스|0027 제조|
0028 부동산|0029 IT 서비스|0030 오락·문화|0163 고배당50|0164 배당성장50|0165 우선주|0195 코스피 TR|
0241 코스피 고배당 50 TR|0242 코스피 배당성장 50 TR|0244 코스피200제외 코스피지수|0503 VKOSPI"""
KOSDAQ = """1001 KOSDAQ|1002 코스닥 대형주|1003 코스닥 중형주|1004 코스닥 소형주|1006 일반서비스|1009 제조|1010 건설|
1011 유통|1013 운송·창고|1014 금융|1015 오락·문화|1019 음식료·담배|1020 섬유·의류|1021 종이·목재|
1022 출판·매체복제|1023 화학|1024 제약|1025 비금속|1026 금속|1027 기계·장비|1028 전기·전자|1029 의료·정밀기기|
1030 운송장비·부품|1031 기타제조|1032 통신|1033 IT 서비스|1042 우량기업|1043 벤처기업|1044 중견기업|
1045 기술성장기업|1049 코스닥 글로벌|1196 코스닥 TR|1331 코스닥 150 거버넌스"""
KOSPI200 = "2001 KOSPI200|2007 KOSPI100|2008 KOSPI50"


def records() -> list[SectorRecord]:
    rows = []
    for division, block in (("0", KOSPI), ("1", KOSDAQ), ("2", KOSPI200)):
        for item in block.replace("\n", "").split("|"):
            code, name = item.split(" ", 1)
            rows.append(SectorRecord(division, code, name))
    return rows


def main() -> None:
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(zip_sector_master(render_sector_master(records())))


if __name__ == "__main__":
    main()
