"""Build the bundled sample dataset under azak_pipelines/sample_data from ../shared/data.

Only facts are copied (codes, names, markets, prices, index levels); page and API payloads are
never copied. Fixtures in vendor response shapes are generated from those facts. Re-running this
script reproduces the committed files byte for byte.

    python scripts/build_sample_data.py [--shared ../shared/data]
"""

import argparse
import csv
import gzip
import io
import itertools
import json
import random
import shutil
import sys
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

from azak_core.market import tick_size, to_tick

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "azak_pipelines" / "sample_data"

# The 20 largest KOSPI/KOSDAQ companies that daily_recent covers: the demo watch-list.
WATCHLIST = [
    "005930", "000660", "373220", "207940", "012450", "005935", "105560", "005380", "329180",
    "000270", "068270", "034020", "035420", "042660", "055550", "028260", "032830", "035720",
    "009540", "402340",
]


def build_universe(shared: Path) -> None:
    listing = list(csv.DictReader(
        (shared / "universe" / "krx_all_listed_snapshot_2025_09.csv").open(encoding="utf-8-sig")
    ))
    kind = {
        row["종목코드"]: row
        for row in csv.DictReader(
            (shared / "universe" / "kind_listed_companies_2025.csv").open(encoding="utf-8-sig")
        )
    }
    target = OUT / "universe" / "krx_listed_2025_09.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "market", "section", "industry", "listed_on",
                         "close", "market_cap", "listed_shares"])
        for row in sorted(listing, key=lambda r: r["종목코드"]):
            extra = kind.get(row["종목코드"], {})
            writer.writerow([
                row["종목코드"], row["종목명"], row["시장구분"], row["소속부"],
                extra.get("업종", ""), extra.get("상장일", ""),
                row["종가"], row["시가총액"], row["상장주식수"],
            ])
    names = {row["종목코드"]: row["종목명"] for row in listing}
    with (OUT / "watchlist.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name"])
        for code in WATCHLIST:
            writer.writerow([code, names[code]])


# -- KIS replay fixtures ----------------------------------------------------------------------------

KIS = OUT / "kis"
OK = {"rt_cd": "0", "msg_cd": "MCA00000", "msg1": "정상처리 되었습니다."}
INDEX_WINDOW = (date(2023, 11, 1), date(2025, 6, 30))
SYNTHETIC_SESSIONS = 40  # investor flows and after-hours: KIS keeps ~30 sessions; a little more
MINUTE_SESSIONS = 2
QUOTE_SESSIONS = 1


def write_json(path: Path, payload: object) -> None:
    """Compact, gzip-compressed, byte-reproducible (mtime 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(data)


def sign(change: float, base: float) -> str:
    if change == 0:
        return "3"
    if base and abs(change) / base >= 0.2995:
        return "1" if change > 0 else "4"
    return "2" if change > 0 else "5"


def read_daily(shared: Path, code: str) -> list[dict]:
    rows = []
    with (shared / "prices" / "daily_recent" / f"{code}.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            rows.append({
                "date": date.fromisoformat(row["날짜"]), "open": int(row["시가"]),
                "high": int(row["고가"]), "low": int(row["저가"]), "close": int(row["종가"]),
                "volume": int(row["거래량"]),
            })
    return rows


def daily_fixture(code: str, name: str, listing: dict, rows: list[dict]) -> dict:
    output2 = []
    previous = None
    for row in rows:
        change = row["close"] - previous if previous is not None else 0
        typical = (row["high"] + row["low"] + row["close"]) / 3 if row["volume"] else 0
        output2.append({
            "stck_bsop_date": row["date"].strftime("%Y%m%d"),
            "stck_oprc": str(row["open"]), "stck_hgpr": str(row["high"]),
            "stck_lwpr": str(row["low"]), "stck_clpr": str(row["close"]),
            "acml_vol": str(row["volume"]),
            # the facts carry no traded value: an estimate, volume x typical price
            "acml_tr_pbmn": str(round(row["volume"] * typical)),
            "flng_cls_code": "00", "prtt_rate": "0.00", "mod_yn": "N",
            "prdy_vrss_sign": sign(change, previous or 0), "prdy_vrss": str(change),
            "revl_issu_reas": "",
        })
        previous = row["close"]
    last, before = rows[-1], rows[-2]
    change = last["close"] - before["close"]
    output1 = {
        "prdy_vrss": str(change), "prdy_vrss_sign": sign(change, before["close"]),
        "prdy_ctrt": f"{change / before['close'] * 100:.2f}", "stck_prdy_clpr": str(before["close"]),
        "acml_vol": str(last["volume"]), "acml_tr_pbmn": output2[-1]["acml_tr_pbmn"],
        "hts_kor_isnm": name, "stck_prpr": str(last["close"]), "stck_shrn_iscd": code,
        "stck_oprc": str(last["open"]), "stck_hgpr": str(last["high"]), "stck_lwpr": str(last["low"]),
        "lstn_stcn": listing["listed_shares"],
        "hts_avls": str(round(last["close"] * int(listing["listed_shares"]) / 1e8)),
        "per": "", "eps": "", "pbr": "",
    }
    return {**OK, "output1": output1, "output2": list(reversed(output2))}


def minute_path(rng: random.Random, bar: dict) -> list[dict]:
    """381 one-minute bars (09:00-15:19 continuous, 15:30 closing auction) matching the day's OHLCV."""
    times = [datetime(2000, 1, 1, 9, 0) + timedelta(minutes=i) for i in range(380)]
    times.append(datetime(2000, 1, 1, 15, 30))
    n = len(times)
    o, h, lo, c, v = bar["open"], bar["high"], bar["low"], bar["close"], bar["volume"]
    walk = [0.0]
    for _ in range(n - 1):
        walk.append(walk[-1] + rng.gauss(0, 1))
    bridge = [walk[i] - walk[-1] * i / (n - 1) for i in range(n)]
    spread = max(bridge) - min(bridge) or 1.0
    scale = (h - lo) / spread * 0.9
    closes = [min(h, max(lo, o + (c - o) * i / (n - 1) + bridge[i] * scale)) for i in range(n)]
    closes[-1] = c
    hi_at = rng.randrange(1, n - 1)
    lo_at = rng.randrange(1, n - 1)
    while lo_at == hi_at:
        lo_at = rng.randrange(1, n - 1)
    closes[hi_at], closes[lo_at] = h, lo
    closes = [to_tick(p) for p in closes]
    weights = [(1.0 + 3.0 * ((i / (n - 2)) - 0.5) ** 2) * rng.uniform(0.6, 1.4) for i in range(n - 1)]
    weights.append(sum(weights) * 0.06)  # the closing auction trades a lot at once
    raw = [v * w / sum(weights) for w in weights]
    volumes = [int(x) for x in raw]
    for i in sorted(range(n), key=lambda i: raw[i] - volumes[i], reverse=True)[: v - sum(volumes)]:
        volumes[i] += 1
    bars, previous = [], o
    for i, at in enumerate(times):
        bar_open = o if i == 0 else previous
        close = closes[i]
        up = to_tick(max(bar_open, close) + tick_size(close) * rng.choice([0, 0, 1]))
        down = to_tick(min(bar_open, close) - tick_size(close) * rng.choice([0, 0, 1]))
        high = h if i == hi_at else min(h, up)
        low = lo if i == lo_at else max(lo, down)
        bars.append({"time": at.strftime("%H%M%S"), "open": bar_open, "high": max(high, bar_open, close),
                     "low": min(low, bar_open, close), "close": close, "volume": volumes[i]})
        previous = close
    return bars


def build_kis(shared: Path) -> None:
    if KIS.exists():
        shutil.rmtree(KIS)
    listings = {}
    with (OUT / "universe" / "krx_listed_2025_09.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            listings[row["code"]] = row
    for code in WATCHLIST:
        listing = listings[code]
        name = listing["name"]
        rng = random.Random(f"azak-sample-{code}")
        rows = read_daily(shared, code)
        write_json(KIS / "daily" / f"{code}.json.gz", daily_fixture(code, name, listing, rows))

        # minute bars and quote snapshots for the last sessions (synthetic, consistent with OHLCV)
        for row in rows[-MINUTE_SESSIONS:]:
            bars = minute_path(rng, row)
            day = row["date"].strftime("%Y%m%d")
            output2 = [{
                "stck_bsop_date": day, "stck_cntg_hour": b["time"], "stck_prpr": str(b["close"]),
                "stck_oprc": str(b["open"]), "stck_hgpr": str(b["high"]), "stck_lwpr": str(b["low"]),
                "cntg_vol": str(b["volume"]), "acml_tr_pbmn": str(b["volume"] * b["close"]),
            } for b in bars]
            write_json(KIS / "minute" / code / f"{day}.json.gz",
                       {"output1": {"hts_kor_isnm": name, "stck_prpr": str(row["close"])},
                        "output2": list(reversed(output2))})
            if row not in rows[-QUOTE_SESSIONS:]:
                continue
            previous_close = rows[rows.index(row) - 1]["close"]
            captures = []
            stamps = [datetime(2000, 1, 1, 9, 5) + timedelta(minutes=30 * k) for k in range(13)]
            stamps.append(datetime(2000, 1, 1, 15, 35))
            for stamp in stamps:
                hhmmss = stamp.strftime("%H%M%S")
                seen = [b for b in bars if b["time"] <= hhmmss]
                price = seen[-1]["close"]
                change = price - previous_close
                volume = sum(b["volume"] for b in seen)
                size = tick_size(price)
                book = {f"askp{i}": str(price + size * i) for i in range(1, 11)}
                book.update({f"bidp{i}": str(price - size * (i - 1)) for i in range(1, 11)})
                book.update({f"askp_rsqn{i}": str(rng.randint(100, 40_000)) for i in range(1, 11)})
                book.update({f"bidp_rsqn{i}": str(rng.randint(100, 40_000)) for i in range(1, 11)})
                book["total_askp_rsqn"] = str(sum(int(book[f"askp_rsqn{i}"]) for i in range(1, 11)))
                book["total_bidp_rsqn"] = str(sum(int(book[f"bidp_rsqn{i}"]) for i in range(1, 11)))
                captured_at = datetime.combine(row["date"], stamp.time()).isoformat() + "+09:00"
                captures.append({
                    "captured_at": captured_at,
                    "price": {**OK, "output": {
                        "stck_shrn_iscd": code, "stck_prpr": str(price), "prdy_vrss": str(change),
                        "prdy_vrss_sign": sign(change, previous_close),
                        "prdy_ctrt": f"{change / previous_close * 100:.2f}",
                        "stck_oprc": str(bars[0]["open"]),
                        "stck_hgpr": str(max(b["high"] for b in seen)),
                        "stck_lwpr": str(min(b["low"] for b in seen)),
                        "acml_vol": str(volume),
                        "acml_tr_pbmn": str(sum(b["volume"] * b["close"] for b in seen)),
                        "lstn_stcn": listing["listed_shares"],
                        "hts_avls": str(round(price * int(listing["listed_shares"]) / 1e8)),
                        "per": "", "pbr": "", "eps": "", "bps": "",
                    }},
                    "orderbook": {**OK, "output1": {**book, "aspr_acpt_hour": hhmmss},
                                  "output2": {"stck_prpr": str(price)}},
                })
            write_json(KIS / "quotes" / code / f"{day}.json.gz", captures)

        # investor flows and after-hours prices (synthetic, last sessions; closes are facts)
        flows, overtime = [], []
        recent = rows[-SYNTHETIC_SESSIONS - 1:]
        for previous, row in itertools.pairwise(recent):
            volume, close = row["volume"], row["close"]
            foreign = int(rng.gauss(0, 0.06) * volume)
            institution = int(rng.gauss(0, 0.04) * volume)
            individual = -(foreign + institution) + int(rng.gauss(0, 0.005) * volume)
            change = close - previous["close"]
            flows.append({
                "stck_bsop_date": row["date"].strftime("%Y%m%d"), "stck_clpr": str(close),
                "prdy_vrss": str(change), "prdy_vrss_sign": sign(change, previous["close"]),
                "prsn_ntby_qty": str(individual), "frgn_ntby_qty": str(foreign),
                "orgn_ntby_qty": str(institution),
                "prsn_ntby_tr_pbmn": str(round(individual * close / 1e6)),
                "frgn_ntby_tr_pbmn": str(round(foreign * close / 1e6)),
                "orgn_ntby_tr_pbmn": str(round(institution * close / 1e6)),
            })
            after = to_tick(close + tick_size(close) * rng.randint(-3, 3))
            after_volume = int(volume * rng.uniform(0.001, 0.008))
            overtime.append({
                "stck_bsop_date": row["date"].strftime("%Y%m%d"), "ovtm_untp_prpr": str(after),
                "ovtm_untp_prdy_vrss": str(after - close), "prdy_vrss_sign": sign(after - close, close),
                "ovtm_untp_prdy_ctrt": f"{(after - close) / close * 100:.2f}",
                "acml_vol": str(after_volume), "acml_tr_pbmn": str(after_volume * after),
            })
        write_json(KIS / "investor" / f"{code}.json.gz", {**OK, "output": list(reversed(flows))})
        write_json(KIS / "overtime" / f"{code}.json.gz", {**OK, "output2": list(reversed(overtime))})

        # financial ratios (synthetic demo values) and product info (facts)
        last_close = rows[-1]["close"]

        def ratio_row(period: str, last_close: float = last_close, rng: random.Random = rng) -> dict:
            eps = last_close / rng.uniform(8, 25)
            bps = last_close / rng.uniform(0.8, 2.5)
            return {"stac_yymm": period, "grs": f"{rng.gauss(5, 15):.2f}",
                    "bsop_prfi_inrt": f"{rng.gauss(5, 30):.2f}", "ntin_inrt": f"{rng.gauss(5, 35):.2f}",
                    "roe_val": f"{rng.uniform(2, 18):.2f}", "eps": f"{eps:.0f}", "bps": f"{bps:.0f}",
                    "lblt_rate": f"{rng.uniform(20, 150):.2f}", "rsrv_rate": f"{rng.uniform(500, 5000):.2f}"}

        annual = [ratio_row(f"{year}12") for year in range(2024, 2014, -1)]
        quarterly = [ratio_row(f"{year}{month:02d}") for year in (2025, 2024, 2023, 2022, 2021)
                     for month in (12, 9, 6, 3) if (year, month) <= (2025, 3)]
        write_json(KIS / "financial_ratio" / f"{code}.json.gz", {"annual": annual, "quarterly": quarterly})
        listed_on = listing["listed_on"].replace("-", "")
        write_json(KIS / "product_info" / f"{code}.json.gz", {
            "pdno": code, "prdt_type_cd": "300", "prdt_name": name,
            "prdt_clsf_name": "유가증권" if listing["market"] == "KOSPI" else "코스닥",
            "ivst_prdt_type_cd_name": "주권", "prdt_risk_grad_cd": "", "frst_erlm_dt": listed_on,
        })

    # KOSPI composite (facts)
    output2, previous = [], None
    with (shared / "prices" / "index" / "kospi_composite_2022_2026.csv").open() as handle:
        for row in csv.DictReader(handle):
            day = date.fromisoformat(row["date"])
            if not INDEX_WINDOW[0] <= day <= INDEX_WINDOW[1]:
                continue
            close = float(row["close"])
            change = close - previous if previous is not None else 0.0
            output2.append({
                "stck_bsop_date": day.strftime("%Y%m%d"), "bstp_nmix_prpr": f"{close:.2f}",
                "bstp_nmix_oprc": f"{float(row['open']):.2f}", "bstp_nmix_hgpr": f"{float(row['high']):.2f}",
                "bstp_nmix_lwpr": f"{float(row['low']):.2f}", "acml_vol": str(int(float(row["volume"]))),
                "acml_tr_pbmn": "", "bstp_nmix_prdy_vrss": f"{change:.2f}",
                "prdy_vrss_sign": sign(change, previous or 0),
                "bstp_nmix_prdy_ctrt": f"{(change / previous * 100) if previous else 0:.2f}",
                "mod_yn": "N",
            })
            previous = close
    write_json(KIS / "index_daily" / "0001.json.gz", {
        **OK, "output1": {"hts_kor_isnm": "종합", "bstp_nmix_prpr": output2[-1]["bstp_nmix_prpr"]},
        "output2": list(reversed(output2)),
    })


# -- files for `azak import prices` ------------------------------------------------------------------

IMPORT_WINDOW = (date(2022, 1, 3), date(2023, 12, 4))  # ends the day before the KIS sample starts


def build_imports(shared: Path) -> None:
    """Two files in the two accepted layouts, from daily_long (QuantKang/stock_data) facts."""
    target = OUT / "imports"
    target.mkdir(parents=True, exist_ok=True)
    for code, layout in (("005930", "english"), ("000660", "pykrx")):
        with (shared / "prices" / "daily_long" / f"{code}_D.csv").open(encoding="utf-8-sig") as handle:
            rows = [r for r in csv.DictReader(handle)
                    if IMPORT_WINDOW[0] <= date(int(r["date"][:4]), int(r["date"][4:6]), int(r["date"][6:8]))
                    <= IMPORT_WINDOW[1]]
        name = f"{code}_D.csv" if layout == "english" else f"{code}.csv"
        with (target / name).open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            if layout == "english":
                writer.writerow(["date", "open", "high", "low", "close", "volume", "code"])
                for r in rows:
                    writer.writerow([r["date"], r["open"], r["high"], r["low"], r["close"], r["volume"], code])
            else:
                writer.writerow(["날짜", "시가", "고가", "저가", "종가", "거래량"])
                for r in rows:
                    iso = f"{r['date'][:4]}-{r['date'][4:6]}-{r['date'][6:8]}"
                    writer.writerow([iso, r["open"], r["high"], r["low"], r["close"], r["volume"]])


# -- news fixtures (our own text, in the real pages' structure) --------------------------------------

NEWS = OUT / "news"
NEWS_WINDOW = (date(2025, 1, 2), date(2025, 6, 17))
PRESSES = [("990", "아작경제"), ("991", "데모투데이"), ("992", "샘플일보"), ("993", "가상증권신문")]
BROKERS = ["가상투자증권", "샘플증권", "데모증권"]
TOPICS = {
    "005930": ["HBM 공급 기대", "파운드리 수주 소식", "메모리 가격 반등 전망"],
    "000660": ["HBM3E 수요 확대", "AI 서버 투자 증가", "메모리 업황 개선 기대"],
    "373220": ["북미 배터리 수요 둔화 우려", "ESS 수주 확대", "전기차 판매 부진"],
    "207940": ["대형 위탁생산 계약 체결", "생산 공장 가동률 상승"],
    "012450": ["방산 수출 계약 기대", "자주포 추가 수주"],
    "005935": ["우선주 배당 매력 부각"],
    "105560": ["주주환원 확대 기대", "밸류업 프로그램 수혜"],
    "005380": ["미국 관세 부담 우려", "하이브리드 판매 호조"],
    "329180": ["LNG선 수주 확대", "함정 정비 협력 기대"],
    "000270": ["미국 판매 증가", "관세 영향 우려"],
    "068270": ["바이오시밀러 미국 출시", "합병 시너지 기대"],
    "034020": ["원전 수주 기대감", "SMR 협력 확대"],
    "035420": ["AI 검색 서비스 공개", "커머스 거래액 증가"],
    "042660": ["특수선 수주 기대", "함정 정비 계약"],
    "055550": ["자사주 소각 결정", "순이익 증가"],
    "028260": ["지배구조 개편 기대", "자사주 소각 계획"],
    "032830": ["보험 손익 개선", "배당 확대 기대"],
    "035720": ["AI 서비스 출시", "규제 리스크 완화"],
    "009540": ["선박 수주 호조", "자회사 실적 개선"],
    "402340": ["SK하이닉스 지분가치 부각", "주주환원 정책 발표"],
}
# headlines that name groups, unlisted affiliates or look-alike listings (linker traps)
TRAPS = [
    ("2025-01-14", "SK그룹, 계열사 리밸런싱 속도…사업 재편 가속",
     "SK그룹이 계열사 간 사업 조정을 이어가며 리밸런싱에 속도를 내고 있다."),
    ("2025-02-05", "카카오뱅크, 지난해 순이익 사상 최대", "카카오뱅크가 지난해 역대 최대 순이익을 기록했다고 밝혔다."),
    ("2025-02-20", "KT&G, 자사주 추가 소각 발표", "KT&G가 주주환원 정책의 일환으로 자사주를 추가 소각한다고 공시했다."),
    ("2025-03-12", "삼성그룹 사장단 워크숍 개최…위기 극복 강조",
     "삼성그룹 주요 계열사 사장단이 워크숍을 열고 경영 전략을 점검했다."),
    ("2025-04-09", "SK온, 배터리 신규 공급 계약 체결", "SK온이 해외 완성차 업체와 배터리 공급 계약을 맺었다."),
    ("2025-05-15", "네이버웹툰 모회사, 분기 흑자 전환", "네이버웹툰의 미국 모회사가 분기 기준 흑자로 돌아섰다."),
    ("2025-06-10", "현대차그룹, 미국 공장 투자 확대 발표", "현대차그룹이 미국 현지 생산 투자를 늘리겠다고 밝혔다."),
]


def josa(word: str, with_final: str, without_final: str) -> str:
    """The particle that follows ``word`` (은/는, 이/가): Hangul final consonant decides."""
    last = word.rstrip()[-1]
    if "가" <= last <= "힣":
        return word + (with_final if (ord(last) - 0xAC00) % 28 else without_final)
    return word + without_final


def _euc_kr(page: str) -> bytes:
    return page.encode("cp949")


def _gz(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(data)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def news_items(shared: Path, listings: dict) -> list[dict]:
    """The team's own stories for the window: market wraps, big movers, reports and traps."""
    items: list[dict] = []
    kospi = {}
    with (shared / "prices" / "index" / "kospi_composite_2022_2026.csv").open() as handle:
        for row in csv.DictReader(handle):
            kospi[date.fromisoformat(row["date"])] = float(row["close"])
    days = sorted(d for d in kospi if NEWS_WINDOW[0] <= d <= NEWS_WINDOW[1])
    rng = random.Random("azak-news")
    seq = 1
    for previous, day in zip([max(d for d in kospi if d < NEWS_WINDOW[0]), *days], days, strict=False):
        change = (kospi[day] / kospi[previous] - 1) * 100
        who = rng.choice(["외국인", "기관"])
        verb = "상승" if change >= 0 else "하락"
        side = "매수" if change >= 0 else "매도"
        items.append({"seq": seq, "day": day, "time": "15:45", "stock": None, "kind": "market",
                      "title": f"코스피, {who} {side}에 {abs(change):.2f}% {verb} 마감…{kospi[day]:,.2f}",
                      "summary": f"{day.month}월 {day.day}일 코스피 지수는 전 거래일보다 {abs(change):.2f}% "
                                 f"{'오른' if change >= 0 else '내린'} {kospi[day]:,.2f}에 장을 마쳤다. "
                                 f"{josa(who, '이', '가')} 순{side}에 나섰다."})
        seq += 1
    for code, topics in TOPICS.items():
        name = listings[code]["name"]
        rows = [r for r in read_daily(shared, code) if NEWS_WINDOW[0] <= r["date"] <= NEWS_WINDOW[1]]
        history = read_daily(shared, code)
        closes = {r["date"]: r["close"] for r in history}
        for row in rows:
            before = [d for d in closes if d < row["date"]]
            if not before or row["volume"] == 0:
                continue
            change = (row["close"] / closes[max(before)] - 1) * 100
            if abs(change) < 3.0:
                continue
            topic = rng.choice(topics)
            verb = ("급등" if change >= 5 else "강세") if change > 0 else ("급락" if change <= -5 else "약세")
            hour = rng.randint(9, 15)
            items.append({"seq": seq, "day": row["date"], "time": f"{hour:02d}:{rng.randint(0, 59):02d}",
                          "stock": code, "kind": "mover", "topic": topic, "change": change, "verb": verb,
                          "title": f"{name}, {topic}에 {abs(change):.1f}% {verb}",
                          "summary": f"{josa(name, '은', '는')} 이날 전 거래일보다 {abs(change):.1f}% "
                                     f"{'오른' if change > 0 else '내린'} {row['close']:,}원에 거래를 마쳤다. "
                                     f"{josa(topic, '이', '가')} 주가에 영향을 준 것으로 풀이된다."})
            seq += 1
        for month in range(1, 7):
            day = date(2025, month, min(28, 5 + (int(code) % 20)))
            while day.weekday() >= 5:
                day += timedelta(days=1)
            if day > NEWS_WINDOW[1]:
                continue
            broker = rng.choice(BROKERS)
            stance = rng.choice(["목표가 상향", "목표가 유지", "목표가 하향", "투자의견 매수 유지"])
            items.append({"seq": seq, "day": day, "time": "08:10", "stock": code, "kind": "report",
                          "title": f"{name}, {stance}…'{rng.choice(topics)}'-{broker}",
                          "summary": f"{josa(broker, '은', '는')} 보고서에서 {name}의 {stance} 의견을 냈다."})
            seq += 1
    for day_text, title, summary in TRAPS:
        items.append({"seq": seq, "day": date.fromisoformat(day_text), "time": "10:30", "stock": None,
                      "kind": "trap", "title": title, "summary": summary})
        seq += 1
    for item in items:
        office, press = PRESSES[item["seq"] % len(PRESSES)]
        item["office"], item["press"], item["article_id"] = office, press, f"{9000000000 + item['seq']:010d}"
    return sorted(items, key=lambda i: (i["day"], i["time"], i["seq"]))


def market_page(day: date, items: list[dict]) -> bytes:
    rows = []
    for item in sorted(items, key=lambda i: i["time"], reverse=True):
        href = (f"/news/news_read.naver?article_id={item['article_id']}&office_id={item['office']}"
                f"&mode=LSS2D&type=0&section_id=101&section_id2=258&section_id3=&date={day:%Y%m%d}&page=1")
        rows.append(f"""
<li class="newsList">
 <dl>
  <dd class="articleSubject"><a href="{_esc(href)}" title="{_esc(item['title'])}">{_esc(item['title'])}</a></dd>
  <dd class="articleSummary">
   {_esc(item['summary'])}
   <span class="press">{item['press']}</span>
   <span class="bar">|</span>
   <span class="wdate">{day:%Y-%m-%d} {item['time']}</span>
  </dd>
 </dl>
</li>""")
    page = f"""<html lang="ko"><head>
<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">
<title>실시간 속보 : 네이버페이 증권 (Azak replay fixture)</title></head>
<body><div class="mainNewsList"><ul class="realtimeNewsList">{''.join(rows)}
</ul></div>
<table class="Nnavi"><tr><td class="on"><a href="?page=1">1</a></td></tr></table>
</body></html>"""
    return _euc_kr(page)


def stock_page(code: str, items: list[dict]) -> bytes:
    latest = sorted(items, key=lambda i: (i["day"], i["time"]), reverse=True)[:20]
    rows = []
    for i, item in enumerate(latest):
        href = f"/item/news_read.naver?article_id={item['article_id']}&office_id={item['office']}&code={code}&page=&sm="
        css = ' class="first"' if i == 0 else ""
        rows.append(f"""
<tr{css}><td class="title"><a href="{_esc(href)}" class="tit">{_esc(item['title'])}</a></td>
<td class="info">{item['press']}</td><td class="date"> {item['day']:%Y.%m.%d} {item['time']}</td></tr>""")
    page = f"""<html lang="ko"><head>
<meta http-equiv="Content-Type" content="text/html; charset=euc-kr"><title>네이버페이 증권</title></head>
<body><table summary="종목뉴스의 제목, 정보제공, 날짜" cellspacing="0" class="type5">
<caption>종목뉴스</caption><thead><tr><th scope="col">제목</th><th scope="col">정보제공</th>
<th scope="col">날짜</th></tr></thead><tbody>{''.join(rows)}
</tbody></table></body></html>"""
    return _euc_kr(page)


def rss_feed(title: str, link: str, items: list[dict], variant) -> bytes:
    entries = []
    for item in items:
        at = datetime.combine(item["day"], datetime.strptime(item["time"], "%H:%M").time())
        pub = at.strftime("%a, %d %b %Y %H:%M:00 +0900")
        headline, url = variant(item)
        entries.append(f"""
  <item>
   <title><![CDATA[{headline}]]></title>
   <link>{url}</link>
   <description><![CDATA[<p>{item['summary']}</p>]]></description>
   <pubDate>{pub}</pubDate>
   <guid isPermaLink="true">{url}</guid>
  </item>""")
    feed = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
 <title>{title}</title><link>{link}</link>
 <description>Azak replay fixture: the team's own headlines in RSS 2.0</description>
 <language>ko</language>{''.join(entries)}
</channel></rss>"""
    return feed.encode("utf-8")


DART_FORMS = [
    ("분기보고서 (2025.03)", "", 5, 15),
    ("연결재무제표기준영업(잠정)실적(공정공시)", "유", 4, 8),
    ("임원ㆍ주요주주특정증권등소유상황보고서", "", 2, 3),
    ("주요사항보고서(자기주식취득결정)", "유", 3, 20),
    ("사업보고서 (2024.12)", "연", 3, 11),
]


def dart_dataset(listings: dict) -> tuple[list[dict], bytes]:
    rows, corp_xml = [], ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<result>"]
    receipt = 0
    for code in WATCHLIST:
        name = listings[code]["name"]
        # replay-only corp codes, except Samsung Electronics' real one (in the shared DART samples)
        corp_code = "00126380" if code == "005930" else f"99{code}"
        corp_xml.append(f"<list><corp_code>{corp_code}</corp_code><corp_name>{name}</corp_name>"
                        f"<stock_code>{code}</stock_code><modify_date>20250101</modify_date></list>")
        for form, remark, month, day in DART_FORMS:
            if code == "005935":
                continue  # preferred shares file through the common-stock company
            filed = date(2025, month, day + int(code) % 5)
            while filed.weekday() >= 5:
                filed += timedelta(days=1)
            receipt += 1
            rows.append({"corp_code": corp_code, "corp_name": name, "stock_code": code,
                         "corp_cls": "Y", "report_nm": form, "flr_nm": name, "rm": remark,
                         "rcept_dt": f"{filed:%Y%m%d}",
                         "rcept_no": f"{filed:%Y%m%d}{(800000 if remark == '유' else 0) + receipt:06d}"})
    corp_xml.append("<list><corp_code>99999999</corp_code><corp_name>비상장회사</corp_name>"
                    "<stock_code> </stock_code><modify_date>20250101</modify_date></list></result>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("CORPCODE.xml", date_time=(2025, 1, 1, 0, 0, 0))
        archive.writestr(info, "\n".join(corp_xml))
    return sorted(rows, key=lambda r: r["rcept_no"], reverse=True), buffer.getvalue()


def reddit_listing(items: list[dict]) -> dict:
    children = []
    for i, item in enumerate(items):
        created = datetime.combine(item["day"], datetime.strptime(item["time"], "%H:%M").time())
        created_utc = (created - timedelta(hours=9)).replace(tzinfo=None)
        epoch = (created_utc - datetime(1970, 1, 1)).total_seconds()
        post_id = f"az{i:04d}"
        children.append({"kind": "t3", "data": {
            "id": post_id, "name": f"t3_{post_id}", "subreddit": "KoreaStocks",
            "title": item["title"], "selftext": item["summary"], "score": 12 + i * 7 % 90,
            "num_comments": 2 + i % 15, "upvote_ratio": 0.9, "created_utc": epoch,
            "permalink": f"/r/KoreaStocks/comments/{post_id}/azak_fixture/", "author": "azak_fixture",
            "link_flair_text": "News", "is_self": True, "over_18": False,
            "url": f"https://www.reddit.com/r/KoreaStocks/comments/{post_id}/azak_fixture/"}})
    return {"kind": "Listing", "data": {"after": None, "before": None, "dist": len(children),
                                        "modhash": "", "children": children}}


REDDIT_STORIES = [
    ("2025-06-02", "10:00", "KOSPI rallies as foreign investors return to Samsung Electronics",
     "Foreign buying came back to Samsung Electronics and SK Hynix this week."),
    ("2025-06-04", "11:00", "Korean election day closed the market - what changes for KOSPI?",
     "The KRX was closed on June 3 for the presidential election."),
    ("2025-06-09", "09:30", "SK Hynix HBM demand keeps surprising analysts",
     "Analysts raised SK Hynix estimates on HBM demand."),
    ("2025-06-12", "14:00", "Hyundai Motor and Kia: how exposed are they to US tariffs?",
     "Discussion of tariff exposure for Korean carmakers."),
    ("2025-06-16", "08:45", "Hanwha Aerospace after the spin-off: still a buy?",
     "A look at Hanwha Aerospace's defence exports."),
    ("2025-06-17", "07:30", "Why is Naver stock moving? AI search launch",
     "NAVER shares reacted to its AI search announcement."),
]


def build_news(shared: Path) -> None:
    if NEWS.exists():
        shutil.rmtree(NEWS)
    listings = {}
    with (OUT / "universe" / "krx_listed_2025_09.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            listings[row["code"]] = row
    items = news_items(shared, listings)
    by_day: dict[date, list[dict]] = {}
    for item in items:
        by_day.setdefault(item["day"], []).append(item)
    for day, day_items in by_day.items():
        _gz(NEWS / "naver" / "market" / f"{day:%Y%m%d}.html.gz", market_page(day, day_items))
    for code in TOPICS:
        _gz(NEWS / "naver" / "stock" / f"{code}.html.gz",
            stock_page(code, [i for i in items if i["stock"] == code]))
    recent = [i for i in items if i["day"] >= NEWS_WINDOW[1] - timedelta(days=13) and i["kind"] != "market"]
    _gz(NEWS / "rss" / "hankyung.xml.gz", rss_feed(
        "가상한경 증권 (fixture)", "https://www.hankyung.com/finance", recent[-40:],
        lambda i: (f"[특징주] {i['title']}" if i["kind"] == "mover" else i["title"],
                   f"https://www.hankyung.com/article/2025{i['seq']:08d}")))
    _gz(NEWS / "rss" / "maeil.xml.gz", rss_feed(
        "가상매경 증권 (fixture)", "https://www.mk.co.kr/news/stock/", recent[-40:],
        lambda i: (i["title"].replace(", ", " ") + " 눈길" if i["kind"] == "mover" else i["title"],
                   f"https://www.mk.co.kr/news/stock/{11000000 + i['seq']}")))
    rows, corp_zip = dart_dataset(listings)
    (NEWS / "dart").mkdir(parents=True, exist_ok=True)
    (NEWS / "dart" / "corpCode.zip").write_bytes(corp_zip)
    _gz(NEWS / "dart" / "disclosures.json.gz", json.dumps(rows, ensure_ascii=False).encode())
    stories = [{"day": date.fromisoformat(d), "time": t, "title": title, "summary": text}
               for d, t, title, text in REDDIT_STORIES]
    listing = reddit_listing(stories)
    for order in ("hot", "new"):
        _gz(NEWS / "reddit" / f"KoreaStocks_{order}.json.gz",
            json.dumps(listing, ensure_ascii=False).encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    if not args.shared.is_dir():
        print(f"shared data not found at {args.shared}", file=sys.stderr)
        return 1
    build_universe(args.shared)
    build_kis(args.shared)
    build_imports(args.shared)
    build_news(args.shared)
    print(f"sample data written under {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
