"""KIS stock master files: the KOSPI, KOSDAQ and KONEX listings KIS publishes for download.

``https://new.real.download.dws.co.kr/common/master/{kospi,kosdaq,konex}_code.mst.zip`` each hold
one ``*_code.mst`` file, CP949, one record per line (layout in koreainvestment/open-trading-api,
``stocks_info/종목마스터정보(코스피|코스닥|코넥스).h`` and ``kis_*_code_mst.py``):

- a head of variable length: short code (9, the 6-character code left-aligned), standard code
  (ISIN, 12), Korean name (the rest);
- a fixed ASCII tail — 227 characters for KOSPI, 221 for KOSDAQ, 184 for KONEX — of flags and
  numbers; the fields we use are named below, the others keep their position only.

``parse_master`` reads one file into :class:`MasterRecord` (a bad record raises with its line
number), ``render_master`` writes the same layout (the replay sample and the live-mode tests' local
server use it), ``fetch_masters`` downloads the three zips through :class:`HttpClient`.
"""

import io
import zipfile
from dataclasses import dataclass
from datetime import date

from azak_pipelines.lib.http import HttpClient
from azak_pipelines.lib.zips import ArchiveTooLarge, read_member

LIVE_BASE_URL = "https://new.real.download.dws.co.kr/common/master/"
FILES = {"KOSPI": "kospi_code.mst", "KOSDAQ": "kosdaq_code.mst", "KONEX": "konex_code.mst"}
NAME_BYTES = 40  # the head pads the name to 40 bytes (CP949), as the C layout's SZ_KORNAME
# KIS's largest master (KOSPI) is about 2,500 records of under 300 bytes, so well under 1 MiB
# inflated and a few hundred KiB zipped: the caps leave tens of times that before refusing
MASTER_ZIP_MAX_BYTES = 8 * 2**20
MASTER_MAX_BYTES = 32 * 2**20

# (field, width) in order; "_" fields are kept by position only
_KOSPI = ("group 2,size 1,ind_l 4,ind_m 4,ind_s 4," + ",".join(f"_f{i} 1" for i in range(26))
          + ",base_price 9,lot 5,ot_lot 5,halted 1,liquidation 1,managed 1,warning 2,warning_pre 1,"
          "unfaithful 1,backdoor 1,lock 2,par_change 2,capital_increase 2,margin 3,credit 1,credit_days 3,"
          "prev_volume 12,par_value 12,listed_on 8,listed_shares 15,capital 21,fiscal_month 2,ipo_price 7,"
          "preferred 1,short_hot 1,surge 1,krx300 1,kospi 1,sales 9,operating_profit 9,ordinary_profit 9,"
          "net_income 5,roe 9,base_month 8,market_cap 9,group_company 3,credit_over 1,loanable 1,lendable 1")
_KOSDAQ = ("group 2,size 1,ind_l 4,ind_m 4,ind_s 4," + ",".join(f"_f{i} 1" for i in range(21))
           + ",base_price 9,lot 5,ot_lot 5,halted 1,liquidation 1,managed 1,warning 2,warning_pre 1,"
           "unfaithful 1,backdoor 1,lock 2,par_change 2,capital_increase 2,margin 3,credit 1,credit_days 3,"
           "prev_volume 12,par_value 12,listed_on 8,listed_shares 15,capital 21,fiscal_month 2,ipo_price 7,"
           "preferred 1,short_hot 1,surge 1,krx300 1,sales 9,operating_profit 9,ordinary_profit 9,"
           "net_income 5,roe 9,base_month 8,market_cap 9,group_company 3,credit_over 1,loanable 1,lendable 1")
_KONEX = ("group 2,base_price 9,lot 5,ot_lot 5,halted 1,liquidation 1,managed 1,warning 2,warning_pre 1,"
          "unfaithful 1,backdoor 1,lock 2,par_change 2,capital_increase 2,margin 3,credit 1,credit_days 3,"
          "prev_volume 12,par_value 12,listed_on 8,listed_shares 15,capital 21,fiscal_month 2,ipo_price 7,"
          "preferred 1,short_hot 1,surge 1,krx300 1,sales 9,operating_profit 9,ordinary_profit 9,"
          "net_income 5,roe 9,base_month 8,market_cap 9,credit_over 1,loanable 1,lendable 1")


def _layout(spec: str) -> tuple[tuple[str, int, int], ...]:
    fields, offset = [], 0
    for item in spec.split(","):
        name, width = item.split()
        fields.append((name, offset, int(width)))
        offset += int(width)
    return tuple(fields)


LAYOUTS = {"KOSPI": _layout(_KOSPI), "KOSDAQ": _layout(_KOSDAQ), "KONEX": _layout(_KONEX)}
TAIL = {market: fields[-1][1] + fields[-1][2] for market, fields in LAYOUTS.items()}
assert TAIL == {"KOSPI": 227, "KOSDAQ": 221, "KONEX": 184}, TAIL
# securities that are not companies' shares: ETF, ETN, ELW, warrants, foreign ETFs
NOT_SHARES = {"EF", "EN", "EW", "SW", "SR", "FE"}


class MasterFileError(ValueError):
    """A master file that cannot be read as KIS publishes it."""


@dataclass(frozen=True)
class MasterRecord:
    code: str
    isin: str
    name: str
    market: str
    group: str  # ST shares, FS foreign shares, DR depositary receipts, RT REITs, EF ETF …
    listed_on: date | None
    listed_shares: int | None
    base_price: int | None
    market_cap_100m: int | None  # KRW 100 million (억)
    halted: bool
    liquidation: bool  # in the last trading window before delisting (정리매매)

    @property
    def is_share(self) -> bool:
        return self.group not in NOT_SHARES


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.lstrip("-").isdigit() else None


def _day(value: str, where: str) -> date | None:
    value = value.strip()
    if not value or set(value) == {"0"}:
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise MasterFileError(f"{where}: listing date is not YYYYMMDD: {value!r}") from None


def parse_master(data: bytes, market: str) -> list[MasterRecord]:
    """One ``*_code.mst`` file (CP949 bytes) of ``market`` (KOSPI, KOSDAQ or KONEX)."""
    if market not in LAYOUTS:
        raise MasterFileError(f"unknown market {market!r}; expected one of {sorted(LAYOUTS)}")
    try:
        text = data.decode("cp949")
    except UnicodeDecodeError as exc:
        raise MasterFileError(f"{FILES[market]} is not CP949 at byte {exc.start}") from None
    tail_length = TAIL[market]
    fields = {name: (offset, width) for name, offset, width in LAYOUTS[market]}
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{FILES[market]}:{number}"
        if len(line) < 21 + tail_length:
            raise MasterFileError(f"{where}: record is {len(line)} characters, shorter than the "
                                  f"{21 + tail_length} of a {market} record")
        head, tail = line[:-tail_length], line[-tail_length:]
        if not tail.isascii():
            raise MasterFileError(f"{where}: the fixed tail is not ASCII — wrong market layout?")

        def get(name: str, tail: str = tail) -> str:
            offset, width = fields[name]
            return tail[offset:offset + width]

        code = head[:9].strip()
        if len(code) != 6:
            raise MasterFileError(f"{where}: short code must be 6 characters, got {code!r}")
        records.append(MasterRecord(
            code=code, isin=head[9:21].strip(), name=head[21:].strip(), market=market,
            group=get("group").strip(), listed_on=_day(get("listed_on"), where),
            listed_shares=_int(get("listed_shares")), base_price=_int(get("base_price")),
            market_cap_100m=_int(get("market_cap")), halted=get("halted") == "Y",
            liquidation=get("liquidation") == "Y"))
    return records


def isin_of(code: str) -> str:
    """The KRX standard code of a common share: KR7 + code + 00 + check digit (ISO 6166)."""
    body = f"KR7{code}00"
    digits = "".join(str(int(ch, 36)) for ch in body)
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if index % 2 == 0 else 1)
        total += value // 10 + value % 10
    return body + str((10 - total % 10) % 10)


def render_master(records: list[MasterRecord], market: str) -> bytes:
    """Records in the published layout (CP949, CRLF-free lines as the zips carry them)."""
    lines = []
    for record in records:
        values = {
            "group": record.group, "base_price": record.base_price, "listed_shares": record.listed_shares,
            "market_cap": record.market_cap_100m, "halted": "Y" if record.halted else "N",
            "liquidation": "Y" if record.liquidation else "N",
            "listed_on": record.listed_on.strftime("%Y%m%d") if record.listed_on else "00000000",
        }
        tail = ""
        for name, _, width in LAYOUTS[market]:
            value = values.get(name)
            if value is None:
                text = "N" if width == 1 else " " * width
            elif isinstance(value, int):
                text = str(value).rjust(width, "0")
            else:
                text = str(value).ljust(width)
            if len(text) != width:
                raise MasterFileError(f"{record.code}: {name} does not fit in {width} characters")
            tail += text
        name_bytes = record.name.encode("cp949")
        head = record.code.ljust(9) + record.isin.ljust(12) + (name_bytes + b" " * max(0, NAME_BYTES - len(name_bytes))
                                                               ).decode("cp949")
        lines.append(head + tail)
    return ("\n".join(lines) + "\n").encode("cp949")


def zip_master(data: bytes, market: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(FILES[market], data)
    return buffer.getvalue()


def unzip_master(data: bytes, market: str) -> bytes:
    """The market's ``.mst`` file from its zip, refused beyond :data:`MASTER_MAX_BYTES`."""
    name = FILES[market]
    try:
        content = read_member(data, lambda member: member == name, MASTER_MAX_BYTES)
    except (zipfile.BadZipFile, ArchiveTooLarge) as exc:
        raise MasterFileError(f"{name}.zip: {exc}") from None
    if content is None:
        raise MasterFileError(f"{name}.zip: the archive holds no {name}")
    return content


async def fetch_masters(client: HttpClient, base_url: str = LIVE_BASE_URL) -> list[MasterRecord]:
    """Download and parse the three master files (live mode)."""
    records: list[MasterRecord] = []
    for market, name in FILES.items():
        url = base_url.rstrip("/") + f"/{name}.zip"
        response = await client.get(url, max_bytes=MASTER_ZIP_MAX_BYTES)
        if response.status_code != 200:
            raise MasterFileError(f"GET {url} answered HTTP {response.status_code}")
        records += parse_master(unzip_master(response.content, market), market)
    return records
