"""The news sources as a resource: Naver Finance, the Hankyung and Maeil feeds, OpenDART, Reddit."""

from pathlib import Path

import dagster as dg

from azak_pipelines.defs.resources import SecretSafeResource, env_config
from azak_pipelines.lib import replay_http
from azak_pipelines.lib.http import HostLimiter, HttpClient
from azak_pipelines.lib.news.collect import NewsSettings
from azak_pipelines.lib.news.replay import NewsSites
from azak_pipelines.lib.sample_data import sample_data_dir
from azak_pipelines.lib.sources import resolve_mode

DEFAULTS = NewsSettings()


class NewsSources(SecretSafeResource):
    """Naver Finance, the Hankyung and Maeil RSS feeds, OpenDART and Reddit.

    DART and Reddit are live when their credentials are set; Naver and the RSS feeds need none, so
    they go live only when asked (``source_mode`` or their own mode set to ``live``). Otherwise
    every source replays the bundled recordings through the same client and parser."""

    source_mode: str = "auto"
    naver_mode: str = ""
    rss_mode: str = ""
    dart_mode: str = ""
    reddit_mode: str = ""
    naver_base: str = DEFAULTS.naver_base
    naver_market_pages: int = DEFAULTS.naver_market_pages
    naver_stock_pages: int = DEFAULTS.naver_stock_pages
    hankyung_rss: str = DEFAULTS.hankyung_rss
    maeil_rss: str = DEFAULTS.maeil_rss
    dart_base: str = DEFAULTS.dart_base
    dart_api_key: str = ""
    reddit_client_id: str = ""
    reddit_client_secret: str = ""
    reddit_user_agent: str = DEFAULTS.reddit_user_agent
    reddit_base: str = DEFAULTS.reddit_base
    reddit_subreddits: list[str] = list(DEFAULTS.reddit_subreddits)
    reddit_keywords: list[str] = list(DEFAULTS.reddit_keywords)
    reddit_min_score: int = DEFAULTS.reddit_min_score
    reddit_min_comments: int = DEFAULTS.reddit_min_comments
    reddit_lookback_hours: int = DEFAULTS.reddit_lookback_hours
    host_interval: float = DEFAULTS.host_interval
    fetch_bodies: bool = DEFAULTS.fetch_bodies

    def settings(self) -> NewsSettings:
        return NewsSettings(
            naver_base=self.naver_base.rstrip("/"), naver_market_pages=self.naver_market_pages,
            naver_stock_pages=self.naver_stock_pages, hankyung_rss=self.hankyung_rss, maeil_rss=self.maeil_rss,
            dart_base=self.dart_base.rstrip("/"), dart_key=self.dart_api_key,
            reddit_client_id=self.reddit_client_id, reddit_client_secret=self.reddit_client_secret,
            reddit_user_agent=self.reddit_user_agent, reddit_base=self.reddit_base.rstrip("/"),
            reddit_subreddits=tuple(self.reddit_subreddits),
            reddit_keywords=tuple(self.reddit_keywords), reddit_min_score=self.reddit_min_score,
            reddit_min_comments=self.reddit_min_comments, reddit_lookback_hours=self.reddit_lookback_hours,
            host_interval=self.host_interval, fetch_bodies=self.fetch_bodies,
        )

    def mode(self, source: str) -> str:
        requested = getattr(self, f"{source}_mode") or self.source_mode
        if source == "dart":
            return resolve_mode(source, requested, {"AZAK_DART_API_KEY": self.dart_api_key})
        if source == "reddit":
            return resolve_mode(source, requested, {"AZAK_REDDIT_CLIENT_ID": self.reddit_client_id,
                                                    "AZAK_REDDIT_CLIENT_SECRET": self.reddit_client_secret})
        resolve_mode(source, requested, {})  # refuses an unknown mode
        # Naver and the feeds need no credentials: only an explicit "live" reads the live sites
        return "live" if requested.strip().lower() == "live" else "replay"

    def recordings(self) -> Path:
        return sample_data_dir() / "news"

    def client(self, mode: str) -> HttpClient:
        """A polite client (live) or one answered by the recorded sites (replay)."""
        if mode == "live":
            return HttpClient(host_limiter=HostLimiter(self.host_interval), concurrency=2, validators=None)
        return HttpClient(transport=replay_http.transport(NewsSites(self.recordings()).handle), concurrency=4)


NEWS_VARIABLES: dict[str, str | tuple[str, ...]] = {
    "source_mode": "AZAK_SOURCE_MODE",
    "naver_mode": "AZAK_NAVER_MODE",
    "rss_mode": "AZAK_RSS_MODE",
    "dart_mode": "AZAK_DART_MODE",
    "reddit_mode": "AZAK_REDDIT_MODE",
    "naver_base": "AZAK_NAVER_BASE_URL",
    "naver_market_pages": "AZAK_NAVER_MARKET_PAGES",
    "naver_stock_pages": "AZAK_NAVER_STOCK_PAGES",
    "hankyung_rss": "AZAK_HANKYUNG_RSS_URL",
    "maeil_rss": "AZAK_MAEIL_RSS_URL",
    "dart_base": "AZAK_DART_BASE_URL",
    "dart_api_key": "AZAK_DART_API_KEY",
    "reddit_client_id": "AZAK_REDDIT_CLIENT_ID",
    "reddit_client_secret": "AZAK_REDDIT_CLIENT_SECRET",
    "reddit_user_agent": "AZAK_REDDIT_USER_AGENT",
    "reddit_base": "AZAK_REDDIT_BASE_URL",
    "reddit_subreddits": "AZAK_REDDIT_SUBREDDITS",
    "reddit_keywords": "AZAK_REDDIT_KEYWORDS",
    "reddit_min_score": "AZAK_REDDIT_MIN_SCORE",
    "reddit_min_comments": "AZAK_REDDIT_MIN_COMMENTS",
    "reddit_lookback_hours": "AZAK_REDDIT_LOOKBACK_HOURS",
    "host_interval": "AZAK_NEWS_HOST_INTERVAL",
    "fetch_bodies": "AZAK_NEWS_FETCH_BODIES",
}


def news_from_env() -> NewsSources:
    return NewsSources(**env_config(NewsSources, NEWS_VARIABLES))


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"news": news_from_env()})
