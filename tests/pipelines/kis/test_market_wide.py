"""The ranking and index-price TRs through the KIS client over real HTTP, against the local KIS
server replaying the generated recordings; and the generator that writes those recordings."""

from datetime import UTC, datetime

import pytest

from azak_core.market import KST
from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR
from azak_pipelines.lib.http import NoLimit
from azak_pipelines.lib.kis.client import KisClient, KisConfig, KisUnsupported, MemoryTokenStore
from azak_pipelines.lib.kis.generated import NOTE, constituents, daily_series, generated_files
from azak_pipelines.lib.kis.parsers import KisApiError
from azak_pipelines.lib.kis.replay import KisSimulator, MissingRecording, fixed_clock, serve
from azak_pipelines.lib.kis.sectors import read_sector_mapping
from azak_pipelines.lib.sample_data import BUNDLED

EVENING = datetime(2025, 6, 17, 18, 0, tzinfo=KST)


@pytest.fixture
def simulator():
    return KisSimulator(BUNDLED / "kis", clock=fixed_clock(EVENING), app_key="k", app_secret="s")


@pytest.fixture
def kis_url(simulator):
    with serve(simulator) as url:
        yield url


def client(url: str, env: str = "real") -> KisClient:
    return KisClient(KisConfig("k", "s", env, base_url=url), MemoryTokenStore(), NoLimit())


async def test_rise_fall_and_volume_rankings_come_back_ranked(simulator, kis_url):
    async with client(kis_url) as kis:
        rise, fall, volume = [await kis.ranking(name) for name in ("rise", "fall", "volume")]
    assert [r.rank for r in rise] == list(range(1, 21)) and len(fall) == len(volume) == 20
    assert rise[0].stock_code == "042660" and str(rise[0].change_rate) == "7.50"  # 한화오션, 85,300 → 91,700
    assert [r.stock_code for r in fall] == [r.stock_code for r in reversed(rise)]
    assert [r.change_rate for r in rise] == sorted((r.change_rate for r in rise), reverse=True)
    assert [r.volume for r in volume] == sorted((r.volume for r in volume), reverse=True)
    assert volume[0].trading_value is not None and rise[0].trading_value is None  # only the volume TR has it
    assert [tr for _, tr in simulator.requests] == ["FHPST01700000", "FHPST01700000", "FHPST01710000"]


async def test_during_the_session_the_ranking_is_the_last_closed_session(simulator, kis_url):
    async with client(kis_url) as kis:
        evening = await kis.ranking("rise")
        simulator.clock = fixed_clock(datetime(2025, 6, 17, 11, 0, tzinfo=KST))
        morning = await kis.ranking("rise")  # 17 June is not over: 16 June's final ranking
        simulator.clock = fixed_clock(datetime(2025, 6, 18, 18, 0, tzinfo=KST))
        with pytest.raises(KisApiError, match="OPSQ0003"):  # past the end of the recordings
            await kis.ranking("rise")
    assert [r.stock_code for r in morning] != [r.stock_code for r in evening]
    assert morning[0].price != evening[0].price or morning[0].stock_code != evening[0].stock_code


def test_a_session_counts_as_closed_from_its_close_on():
    days = ["20250612", "20250613", "20250616", "20250617"]
    at = {"15:29": datetime(2025, 6, 16, 15, 29, 59, tzinfo=KST), "15:30": datetime(2025, 6, 16, 15, 30, tzinfo=KST),
          "weekend": datetime(2025, 6, 15, 12, 0, tzinfo=KST), "UTC evening": datetime(2025, 6, 16, 7, 0, tzinfo=UTC)}
    closes = {name: KisSimulator(BUNDLED / "kis", clock=fixed_clock(now))._last_close(days) for name, now in at.items()}
    assert closes == {"15:29": "20250613", "15:30": "20250616", "weekend": "20250613", "UTC evening": "20250616"}
    with pytest.raises(MissingRecording):  # before the first recorded close
        KisSimulator(BUNDLED / "kis", clock=fixed_clock(datetime(2025, 6, 12, 9, 0, tzinfo=KST)))._last_close(days)


async def test_a_sector_level_is_the_generated_series_close(kis_url):
    async with client(kis_url) as kis:
        level = await kis.index_price("0013")
        bars = await kis.index_daily("0013", EVENING.date(), EVENING.date())
    assert level.index_code == "0013" and level.level == bars[0].close
    assert level.change_rate is not None and level.open == bars[0].open


async def test_these_trs_are_refused_on_a_paper_account_before_any_request(simulator, kis_url):
    async with client(kis_url, env="paper") as kis:
        for call in (kis.ranking("rise"), kis.ranking("volume"), kis.index_price("0013")):
            with pytest.raises(KisUnsupported, match="AZAK_KIS_ENV=real"):
                await call
    assert simulator.requests == []


def test_the_committed_recordings_are_what_the_generator_writes():
    sectors = read_sector_mapping(DBT_PROJECT_DIR / "seeds")
    files = generated_files(BUNDLED / "kis", sectors)
    assert len(files) == 2 + len(sectors)
    for name, data in files.items():
        assert (BUNDLED / "kis" / name).read_bytes() == data, f"{name}: run scripts/build_market_recordings.py"


def test_a_generated_sector_follows_its_three_sample_stocks():
    import gzip
    import json
    from decimal import Decimal

    series = daily_series(BUNDLED / "kis")
    recording = json.loads(gzip.decompress((BUNDLED / "kis" / "index_daily" / "0013.json.gz").read_bytes()))
    assert recording["generated"].startswith(NOTE) and recording["output1"]["hts_kor_isnm"] == "전기·전자"
    last, before = recording["output2"][0], recording["output2"][1]
    picked = constituents("0013", sorted(series))
    closes = {c: {b["stck_bsop_date"]: Decimal(b["stck_clpr"]) for b in series[c][1]} for c in picked}
    ratio = sum(closes[c][last["stck_bsop_date"]] / closes[c][before["stck_bsop_date"]] for c in picked) / 3
    assert abs(Decimal(before["bstp_nmix_prpr"]) * ratio - Decimal(last["bstp_nmix_prpr"])) <= Decimal("0.01")
