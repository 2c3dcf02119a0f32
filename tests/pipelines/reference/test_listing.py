"""The listing refresh: KIS master files (live through a local HTTP server, replay from the bundled
snapshots), the history of renames, listings, delistings and code reuse, and the schedule."""

import asyncio
from datetime import date, datetime

import dagster as dg
import psycopg
import pytest

from azak_core.market import KST
from azak_pipelines.defs.reference.schedules import stock_listing_schedule
from azak_pipelines.lib.http import HttpClient, ResponseTooLarge, RetryPolicy
from azak_pipelines.lib.kis.master import (
    FILES,
    MASTER_MAX_BYTES,
    MASTER_ZIP_MAX_BYTES,
    TAIL,
    MasterFileError,
    MasterRecord,
    fetch_masters,
    isin_of,
    parse_master,
    render_master,
    unzip_master,
    zip_master,
)
from azak_pipelines.lib.reference.listing_history import HistoryError, SnapshotRow, apply_snapshot
from azak_pipelines.lib.replay_http import serve
from tests.pipelines.lib.zip_bomb import zip_bomb
from tests.pipelines.runs import materialization, run


def record(code: str, name: str, market: str = "KOSPI", listed: date | None = date(2020, 1, 2),
           group: str = "ST") -> MasterRecord:
    return MasterRecord(code, isin_of(code), name, market, group, listed, 1_000_000, 12_340, 5_678, False, False)


def test_isin_check_digits_match_krx():
    assert isin_of("005930") == "KR7005930003" and isin_of("000660") == "KR7000660001"


@pytest.mark.parametrize("market", ["KOSPI", "KOSDAQ", "KONEX"])
def test_master_records_round_trip_in_the_published_layout(market):
    records = [record("005930", "삼성전자", market), record("0099A0", "누리셀바이오", market, None),
               record("069500", "KODEX 200", market, group="EF")]
    data = render_master(records, market)
    line = data.decode("cp949").splitlines()[0]
    assert len(line) - len(line.rstrip()) == 0 and line[:9] == "005930   " and line[9:21] == "KR7005930003"
    assert len(line.encode("cp949")) == 21 + 40 + TAIL[market]  # the name padded to 40 bytes
    parsed = parse_master(data, market)
    assert parsed == records
    assert [r.is_share for r in parsed] == [True, True, False]


def test_a_broken_master_file_names_the_line():
    good = render_master([record("005930", "삼성전자")], "KOSPI")
    with pytest.raises(MasterFileError, match=r"kospi_code\.mst:2: record is 5 characters"):
        parse_master(good + b"short\n", "KOSPI")
    with pytest.raises(MasterFileError, match="shorter than the 248 of a KOSPI record"):
        parse_master(render_master([record("005930", "삼성전자", "KONEX")], "KONEX"), "KOSPI")


def test_live_client_downloads_the_three_zips_over_http():
    served = {f"/common/master/{name}.zip": zip_master(render_master([record(code, f"회사{code}", market)], market),
                                                       market)
              for (market, name), code in zip(FILES.items(), ["005930", "035720", "278990"], strict=True)}
    seen = []

    def handler(method, path, headers, query, body):
        seen.append(path)
        if path in served:
            return 200, {"content-type": "application/zip"}, served[path]
        return 404, {}, b"not found"

    async def fetch(base):
        async with HttpClient(retry=RetryPolicy(attempts=1)) as client:
            return await fetch_masters(client, base + "/common/master/")

    with serve(handler) as base:
        records = asyncio.run(fetch(base))
    assert [(r.code, r.market) for r in records] == [("005930", "KOSPI"), ("035720", "KOSDAQ"), ("278990", "KONEX")]
    assert seen == sorted(served, key=list(served).index)


def test_a_master_zip_inflating_beyond_the_cap_is_refused_before_it_is_read():
    bomb = zip_bomb("kospi_code.mst", MASTER_MAX_BYTES + 1)
    assert len(bomb) < 100_000  # a small download
    with pytest.raises(MasterFileError, match=f"kospi_code.mst declares {MASTER_MAX_BYTES + 1:,} bytes "
                                              f"uncompressed, over the cap of {MASTER_MAX_BYTES:,} bytes"):
        unzip_master(bomb, "KOSPI")
    good = render_master([record("005930", "삼성전자")], "KOSPI")
    assert unzip_master(zip_master(good, "KOSPI"), "KOSPI") == good


def test_a_master_download_beyond_the_cap_is_refused():
    oversized = b"PK" + b"\0" * MASTER_ZIP_MAX_BYTES  # one byte past the cap; never parsed

    def handler(method, path, headers, query, body):
        return 200, {"content-type": "application/zip"}, oversized

    async def fetch(base):
        async with HttpClient(retry=RetryPolicy(attempts=3)) as client:
            with pytest.raises(ResponseTooLarge, match=f"larger than the cap of {MASTER_ZIP_MAX_BYTES:,} bytes"):
                await fetch_masters(client, base + "/common/master/")
            return client.requests_sent

    with serve(handler) as base:
        assert asyncio.run(fetch(base)) == 1  # refused at once, not retried


def test_history_tracks_listings_renames_delistings_and_code_reuse():
    day1, day2, day3 = date(2025, 9, 26), date(2025, 10, 31), date(2025, 11, 28)
    first = [SnapshotRow("032820", "우리기술", "KOSDAQ", None, date(2000, 6, 22)),
             SnapshotRow("0041L0", "하나35호스팩", "KOSDAQ", None, None)]
    history, changes = apply_snapshot([], first, day1)
    assert changes == [] and {r.began_by for r in history} == {"first_seen"}
    second = [SnapshotRow("032820", "우리에너지기술", "KOSDAQ", None, date(2000, 6, 22)),
              SnapshotRow("0099A0", "누리셀바이오", "KOSDAQ", None, date(2025, 10, 22))]
    history, changes = apply_snapshot(history, second, day2)
    assert sorted((c.kind, c.code, c.day) for c in changes) == [
        ("delisted", "0041L0", day2), ("listed", "0099A0", date(2025, 10, 22)), ("renamed", "032820", day2)]
    third = [*second, SnapshotRow("0041L0", "세진모빌리티", "KOSDAQ", None, date(2025, 11, 19))]
    history, changes = apply_snapshot(history, third, day3)
    assert [(c.kind, c.code, c.after) for c in changes] == [("code_reused", "0041L0", "세진모빌리티")]
    again, none = apply_snapshot(history, third, day3)
    assert none == [] and [r.as_tuple() for r in again] == [r.as_tuple() for r in history]  # idempotent
    with pytest.raises(HistoryError, match="older than the history"):
        apply_snapshot(history, third, day2)


def test_replay_materializes_the_listing_and_its_history(db_url):
    result = run("stock_listing_job")
    stocks = materialization(result, "raw/stocks")
    history = materialization(result, "computed/stock_history")
    assert stocks["dagster/row_count"] == 2_882 and stocks["source"] == "kis_master:replay:2025-11-28"
    assert history["snapshots"] == ["2025-09-26", "2025-10-31", "2025-11-28"]
    assert "code_reused 0041L0: — → 세진모빌리티" in history["changes"]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT name, valid_from, valid_to, began_by, ended_by FROM computed.stock_history "
                            "WHERE code = '032820' ORDER BY valid_from").fetchall()
        name = conn.execute("SELECT name, industry FROM raw.stocks WHERE code = '032820'").fetchone()
    assert rows == [("우리기술", date(2000, 6, 22), date(2025, 10, 31), "first_seen", "renamed"),
                    ("우리에너지기술", date(2025, 10, 31), None, "renamed", None)]
    assert name[0] == "우리에너지기술" and name[1]  # the industry carried over from the KRX export
    run("stock_listing_job")  # again: same tables
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM computed.stock_history").fetchone() == (2_884,)


def test_live_mode_refreshes_from_the_master_files_over_http(db_url, tmp_path):
    records = {"KOSPI": [record("005930", "삼성전자"), record("0101B0", "한울로보틱스", listed=date(2025, 10, 29))],
               "KOSDAQ": [record("035720", "카카오", "KOSDAQ")], "KONEX": []}

    def handler(method, path, headers, query, body):
        for market, name in FILES.items():
            if path.endswith(f"/{name}.zip"):
                return 200, {}, zip_master(render_master(records[market], market), market)
        return 404, {}, b""

    with serve(handler) as base:
        config = {"resources": {"listing_source": {"config": {"mode": "live", "base_url": base}}}}
        result = run("stock_listing_job", run_config=config, raise_on_error=False)
    assert not result.success  # the bundled watch-list names stocks this tiny listing does not have
    watchlist = tmp_path / "watchlist.csv"
    watchlist.write_text("code\n005930\n", encoding="utf-8")
    with serve(handler) as base:
        config = {"resources": {"listing_source": {"config": {"mode": "live", "base_url": base}}},
                  "ops": {"stocks": {"config": {"watchlist_file": str(watchlist)}}}}
        result = run("stock_listing_job", run_config=config)
    assert materialization(result, "raw/stocks")["dagster/row_count"] == 3
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT began_by FROM computed.stock_history WHERE code = '0101B0'").fetchone() == (
            "first_seen",)


def test_the_weekly_schedule_asks_for_a_refresh():
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 12, 1, 7, 30, tzinfo=KST))
    request = stock_listing_schedule(context)
    assert request.run_key == "stock_listing:2025-12-01"
    assert stock_listing_schedule.cron_schedule == "30 7 * * 1"
