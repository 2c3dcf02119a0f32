"""The market's fixed facts, written once: time zone, stock codes, index codes, return horizons."""

import re
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")

# KRX short codes: six characters, digits or capitals (ETNs and newer listings use letters).
STOCK_CODE_PATTERN = r"^[0-9A-Z]{6}$"
STOCK_CODE = re.compile(STOCK_CODE_PATTERN)

# KIS index codes (FHPUP02120000)
KOSPI = "0001"
KOSDAQ = "1001"
KOSPI200 = "2001"

# Sessions after an article (or a prediction) whose close-to-close returns are measured.
RETURN_HORIZONS = (1, 3, 5, 20)
# The horizons marts.news_price_impact measures (a superset of RETURN_HORIZONS).
PRICE_IMPACT_HORIZONS = (1, 2, 3, 5, 10, 20)


def is_stock_code(value: str) -> bool:
    return bool(STOCK_CODE.match(value))
