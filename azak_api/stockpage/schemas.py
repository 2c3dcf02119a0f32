"""The stock page: everything it shows, in one answer."""

from typing import Annotated

import msgspec

from azak_api.analysis.schemas import Analysis, Prediction
from azak_api.market.schemas import Quote
from azak_api.news.schemas import Article
from azak_api.stocks.schemas import StockDetail


class StockPageView(msgspec.Struct):
    detail: Annotated[StockDetail, msgspec.Meta(description="as GET /api/stocks/{code}, valuation included")]
    quote: Annotated[Quote | None, msgspec.Meta(
        description="as GET /api/stocks/{code}/quote; null when no snapshot of the stock was collected")]
    analysis: Annotated[Analysis, msgspec.Meta(
        description="each active model's latest report, and the active A/B pair side by side")]
    predictions: Annotated[list[Prediction], msgspec.Meta(
        description="the latest successful news-impact predictions about the stock, newest first")]
    news: Annotated[list[Article], msgspec.Meta(description="the latest articles about the stock, with their links")]
