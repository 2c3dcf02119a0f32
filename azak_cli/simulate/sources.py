"""Live-mode sources for a simulation: the recorded news sites served over real HTTP, and the
environment that points the news resource at them (read when the code location loads)."""

import contextlib
import os
from collections.abc import Iterator, Sequence

from azak_cli.simulate.as_of import as_of_now
from azak_cli.simulate.faults import Fault, Window
from azak_pipelines.lib.news.replay import NewsSites
from azak_pipelines.lib.replay_http import serve
from azak_pipelines.lib.sample_data import sample_data_dir


@contextlib.contextmanager
def live_news(window: Window | None = None, faults: Sequence[Fault] = ()) -> Iterator[NewsSites]:
    """Naver Finance and the RSS feeds in live mode, answered by the recordings as they stood at the
    simulated now (:mod:`azak_cli.simulate.as_of`; Reddit and DART stay in replay mode: their
    schedules skip, which the ledger shows), with ``faults`` switched on over ``window``."""
    sites = NewsSites(sample_data_dir() / "news")
    handler = as_of_now(sites.handle)
    for fault in faults:
        if window is None:
            raise ValueError("a fault acts over a simulated window: give live_news the window")
        handler = fault.serve(window, handler)
    with serve(handler) as url:
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
