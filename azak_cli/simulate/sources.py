"""Live-mode sources for a simulation: the recorded news sites served over real HTTP, and the
environment that points the news resource at them (read when the code location loads)."""

import contextlib
import os
from collections.abc import Iterator

from azak_pipelines.lib.news.replay import NewsSites
from azak_pipelines.lib.replay_http import serve
from azak_pipelines.lib.sample_data import sample_data_dir


@contextlib.contextmanager
def live_news() -> Iterator[NewsSites]:
    """Naver Finance and the RSS feeds in live mode, answered by the recordings (Reddit and DART
    stay in replay mode: their schedules skip, which the ledger shows)."""
    sites = NewsSites(sample_data_dir() / "news")
    with serve(sites.handle) as url:
        variables = {"AZAK_NAVER_MODE": "live", "AZAK_RSS_MODE": "live", "AZAK_NAVER_BASE_URL": url,
                     "AZAK_HANKYUNG_RSS_URL": f"{url}/feed/finance", "AZAK_MAEIL_RSS_URL": f"{url}/rss/50200011",
                     "AZAK_NEWS_HOST_INTERVAL": "0", "AZAK_NAVER_STOCK_PAGES": "1"}
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield sites
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
