"""The KIS client over real HTTP against a local server speaking KIS's protocol and limits."""

import asyncio
import itertools
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date, datetime, timedelta

import dagster as dg
import pytest

from azak_core.market import KST
from azak_pipelines.defs.market.resources import kis_from_env, parse_app_keys
from azak_pipelines.lib import replay_http
from azak_pipelines.lib.http import NoLimit
from azak_pipelines.lib.kis import client as kis
from azak_pipelines.lib.kis.client import KisClient, KisConfig, KisUnsupported, MemoryTokenStore
from azak_pipelines.lib.kis.parsers import KisApiError
from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock, serve
from azak_pipelines.lib.kis.store import PgRateLimiter, PgTokenStore
from azak_pipelines.lib.sample_data import BUNDLED
from tests.conftest import PROJECT_ROOT

CLOCK = fixed_clock(datetime(2025, 6, 17, 18, 0, tzinfo=KST))


@pytest.fixture
def simulator():
    return KisSimulator(BUNDLED / "kis", clock=CLOCK, app_key="test-key", app_secret="test-secret")


@pytest.fixture
def kis_url(simulator):
    with serve(simulator) as url:
        yield url


def config(url: str, **extra) -> KisConfig:
    return KisConfig(app_key="test-key", app_secret="test-secret", env="real", base_url=url, **extra)


async def test_daily_bars_page_back_a_hundred_rows_at_a_time(simulator, kis_url):
    async with KisClient(config(kis_url), MemoryTokenStore(), NoLimit()) as client:
        bars = await client.daily_bars("005930", date(2023, 12, 1), date(2025, 6, 17))
    assert len(bars) == 370 and bars[0].trade_date == date(2023, 12, 5)
    assert [b.trade_date for b in bars] == sorted({b.trade_date for b in bars})
    assert [tr for _, tr in simulator.requests] == ["FHKST03010100"] * 4  # 100+100+100+70


async def test_tr_cont_continuation_pages_are_followed(simulator, kis_url):
    async with KisClient(config(kis_url), MemoryTokenStore(), NoLimit()) as client:
        quarterly = await client.financial_ratios("005930", "quarterly")
    assert len(quarterly) == 17 and len(simulator.requests) == 2


async def test_transient_failures_are_retried_with_backoff(simulator, kis_url):
    simulator.inject("FHKST01010100", 500, kis.THROTTLED, 503)
    async with KisClient(config(kis_url), MemoryTokenStore(), NoLimit()) as client:
        started = time.monotonic()
        quote = await client.quote("005930")
    assert quote.price > 0
    assert len(simulator.requests) == 4
    assert time.monotonic() - started >= 1.0  # the throttle answer waits a second


async def test_a_kis_error_is_a_typed_error_with_its_code_and_message(simulator, kis_url):
    simulator.inject("FHKST01010100", "EGW00205")
    async with KisClient(config(kis_url), MemoryTokenStore(), NoLimit()) as client:
        with pytest.raises(KisApiError) as caught:
            await client.quote("005930")
    assert caught.value.msg_cd == "EGW00205" and caught.value.msg1 == "injected EGW00205"
    assert caught.value.tr_id == "FHKST01010100"


async def test_an_expired_token_is_refreshed_once(simulator, kis_url):
    simulator.token_ttl = 1
    simulator.token_interval = 0
    tokens = MemoryTokenStore()
    async with KisClient(config(kis_url), tokens, NoLimit()) as client:
        await client.quote("005930")
        await asyncio.sleep(1.2)
        await client.quote("005930")
    assert simulator.tokens_issued == 2


async def test_a_token_the_server_expired_early_is_refreshed_once_not_retried_as_a_5xx(simulator, kis_url):
    # KIS answers an expired token with HTTP 500 and EGW00123: the client must renew the token, not
    # retry the same answer five times as a server fault and fail
    simulator.token_interval = 0
    sleeps = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with KisClient(config(kis_url), MemoryTokenStore(), NoLimit(), sleep=sleep) as client:
        await client.quote("005930")
        simulator.tokens = {token: (key, CLOCK()) for token, (key, _) in simulator.tokens.items()}
        quote = await client.quote("005930")
    assert quote.price > 0
    assert simulator.tokens_issued == 2 and sleeps == []


async def test_token_issue_is_never_hammered(simulator, kis_url, db_url):
    """Another party issued a token seconds ago: KIS answers EGW00133; we wait, then retry once."""
    simulator.token_interval = 1.5
    async with KisClient(config(kis_url), MemoryTokenStore(), NoLimit()) as other:
        await other.issue_token()
    store = PgTokenStore(db_url, "test", issue_interval=timedelta(seconds=1.6))
    started = time.monotonic()
    async with KisClient(config(kis_url), store, NoLimit()) as client:
        await client.quote("005930")
    # the other party's token, our attempt answered EGW00133, our retry after the interval
    assert simulator.token_requests == 3
    assert simulator.tokens_issued == 2 and store.issued == 1
    assert time.monotonic() - started >= 1.5


def test_real_and_paper_hosts_are_consistent():
    assert KisConfig("k", "s", "real").host == "https://openapi.koreainvestment.com:9443"
    paper = KisConfig("k", "s", "paper")
    assert paper.host == "https://openapivts.koreainvestment.com:29443" and paper.rate == 2.0
    assert KisConfig("k", "s", "real").rate == 19.0
    with pytest.raises(kis.KisConfigError, match="AZAK_KIS_ENV"):
        KisConfig("k", "s", "mock")
    with pytest.raises(kis.KisConfigError, match="AZAK_KIS_APP_KEY"):
        KisConfig("", "s", "real")


async def test_real_only_trs_are_refused_on_paper_accounts(kis_url):
    paper = KisConfig("test-key", "test-secret", "paper", base_url=kis_url)
    async with KisClient(paper, MemoryTokenStore(), NoLimit()) as client:
        with pytest.raises(KisUnsupported, match="AZAK_KIS_ENV=real"):
            await client.index_daily("0001", date(2025, 6, 1), date(2025, 6, 17))


WORKER = textwrap.dedent("""
    import asyncio, sys, time
    from azak_pipelines.lib.kis.client import KisClient, KisConfig
    from azak_pipelines.lib.kis.store import PgRateLimiter, PgTokenStore

    async def main(url, db, n):
        config = KisConfig("test-key", "test-secret", "real", base_url=url)
        limiter = PgRateLimiter(db, "kis:" + config.key_id, 19,
                                on_slot=lambda slot: print("slot", slot, flush=True))
        sent = lambda method, path: print("sent", time.time(), flush=True)
        async with KisClient(config, PgTokenStore(db, config.key_id), limiter, on_send=sent) as client:
            await asyncio.gather(*(client.quote("005930") for _ in range(n)))
        await limiter.aclose()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
""")


def test_one_token_and_one_rate_limit_across_processes(simulator, kis_url, db_url):
    """Three processes hammer one app key: together they are granted at most 19 requests a second
    and share one token. The grants (the database's clock) are exact; the send times add each
    process's scheduling delay after its grant, which on a busy 2-core machine can bunch two sends,
    so the KIS simulator's own 20/s enforcement is allowed that noise and no more."""
    per_process = 25
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, kis_url, db_url, str(per_process)],
                                cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0]
    lines = [line.split() for out in outputs for line in out.splitlines()]
    sent = sorted(float(value) for kind, value in lines if kind == "sent")
    slots = sorted(float(value) for kind, value in lines if kind == "slot")
    assert len(sent) >= 3 * per_process and len(slots) == len(sent)
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 1 / 19 - 1e-6, f"two grants {min(gaps):.4f} s apart"
    busiest = max(sum(1 for u in slots if t <= u < t + 1.0) for t in slots)
    assert busiest <= 19, f"{busiest} grants within one second"
    assert sent[-1] - sent[0] >= (len(sent) - 1) / 19 - 0.05
    assert simulator.tokens_issued == 1
    # Without the limiter ~55 of the 75 are refused. With it, only scheduling noise between a grant
    # and its send is: 0 on a quiet machine, 4-5 with eight busy processes on two cores (measured),
    # and the client retried them (every worker exited 0). The grants above are the exact property.
    assert simulator.throttled <= len(sent) // 5, f"{simulator.throttled} requests throttled"


async def test_the_shared_limiter_spaces_requests(db_url):
    limiter = PgRateLimiter(db_url, "test-bucket", 10)
    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire() for _ in range(21)))
    await limiter.aclose()
    assert time.monotonic() - started >= 2.0


async def test_requests_overlap_up_to_the_clients_concurrency(simulator):
    """A live backfill is bound by the rate limit only if requests overlap the server's latency:
    the server here answers no query until four are in flight at once (a barrier, not a clock),
    so eight quotes complete only if the client (concurrency 4) keeps four going, and never more."""
    four = threading.Barrier(4, timeout=60)  # a deadlock guard: broken if four never overlap
    lock = threading.Lock()
    in_flight, most, broken = [0], [0], []

    def handle(method: str, path: str, headers: dict, query: dict, body: bytes):
        if path == "/oauth2/tokenP":
            return simulator.handle(method, path, headers, query, body)
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            four.wait()
        except threading.BrokenBarrierError:
            broken.append(path)
        with lock:
            in_flight[0] -= 1
        return simulator.handle(method, path, headers, query, body)

    with replay_http.serve(handle) as url:
        async with KisClient(config(url, concurrency=4), MemoryTokenStore(), NoLimit()) as client:
            quotes = await asyncio.gather(*(client.quote("005930") for _ in range(8)))
    assert len(quotes) == 8 and not broken
    assert most[0] == 4 and len(simulator.requests) == 8


async def test_todays_minute_bars_page_back_thirty_at_a_time_and_stop_at_what_we_have(kis_url):
    simulator = KisSimulator(BUNDLED / "kis", clock=fixed_clock(datetime(2025, 6, 17, 11, 0, tzinfo=KST)),
                             app_key="test-key", app_secret="test-secret")
    with serve(simulator) as url:
        async with KisClient(config(url), MemoryTokenStore(), NoLimit()) as client:
            from datetime import time as clock_time

            bars = await client.minute_bars_today("005930", until=clock_time(15, 30))
            assert len(bars) == 121  # 09:00 … 11:00, answered as of the server's clock
            assert bars[-1].bar_time == datetime(2025, 6, 17, 11, 0, tzinfo=KST)
            assert len(simulator.requests) == 5  # 30 + 30 + 30 + 30 + 1
            simulator.requests.clear()
            newer = await client.minute_bars_today("005930", until=clock_time(15, 30),
                                                   since=clock_time(10, 45))
            assert len(simulator.requests) == 1 and newer[-1].bar_time == bars[-1].bar_time


async def test_two_app_keys_each_have_their_own_token_and_limiter_and_share_the_calls(db_url):
    """KIS counts 19 requests a second per app key: with a second key, calls are dealt to both,
    each key with its own token and its own limiter (whose grants keep that key's pace)."""
    simulator = KisSimulator(BUNDLED / "kis", clock=CLOCK, app_key="key-one", app_secret="secret-one",
                             more_keys={"key-two": "secret-two"})
    grants: dict[str, list[float]] = {"key-one": [], "key-two": []}
    with serve(simulator) as url:
        keys = []
        for name, secret in (("key-one", "secret-one"), ("key-two", "secret-two")):
            key = KisConfig(name, secret, "real", base_url=url)
            limiter = PgRateLimiter(db_url, f"kis:{key.key_id}", 19, on_slot=grants[name].append)
            keys.append((key, PgTokenStore(db_url, key.key_id), limiter))
        async with KisClient(*keys[0], more_keys=keys[1:]) as client:
            await asyncio.gather(*(client.quote("005930") for _ in range(40)))
        for _, _, limiter in keys:
            await limiter.aclose()
    assert simulator.tokens_by_key == {"key-one": 1, "key-two": 1}
    assert simulator.requests_by_key == {"key-one": 20, "key-two": 20}
    for name, slots in grants.items():
        assert len(slots) >= 20, name  # one per request, and one per retry of a throttled one
        assert min(b - a for a, b in itertools.pairwise(sorted(slots))) >= 1 / 19 - 1e-6, name
    # a grant's send can be bunched by scheduling noise (see the test above); the client retries
    assert simulator.throttled <= 40 // 5


def test_app_keys_of_two_account_types_are_refused():
    with pytest.raises(kis.KisConfigError, match="one account type"):
        KisClient(KisConfig("k", "s", "real"), MemoryTokenStore(), NoLimit(),
                  more_keys=[(KisConfig("k2", "s2", "paper"), MemoryTokenStore(), NoLimit())])


async def test_the_resource_deals_calls_to_every_key_of_AZAK_KIS_APP_KEYS(db_url, monkeypatch):
    simulator = KisSimulator(BUNDLED / "kis", clock=CLOCK, app_key="key-one", app_secret="secret-one",
                             more_keys={"key-two": "secret-two", "key-three": "secret-three"})
    monkeypatch.setenv("AZAK_KIS_APP_KEY", "key-one")
    monkeypatch.setenv("AZAK_KIS_APP_SECRET", "secret-one")
    monkeypatch.setenv("AZAK_KIS_APP_KEYS", " key-two:secret-two , key-three:secret-three ")
    monkeypatch.setenv("AZAK_KIS_ENV", "real")
    with serve(simulator) as url:
        monkeypatch.setenv("AZAK_KIS_BASE_URL", url)
        with dg.build_resources({"kis": kis_from_env()}) as resources:  # the variables resolved
            async with resources.kis.session(db_url) as session:
                assert session.mode == "live"
                await asyncio.gather(*(session.client.quote("005930") for _ in range(6)))
    assert simulator.requests_by_key == {"key-one": 2, "key-two": 2, "key-three": 2}
    assert simulator.tokens_by_key == {"key-one": 1, "key-two": 1, "key-three": 1}
    with pytest.raises(kis.KisConfigError, match="pair 2 is not key:secret") as refused:
        parse_app_keys("key-two:secret-two,secret-without-key")
    assert "secret-without-key" not in str(refused.value)
