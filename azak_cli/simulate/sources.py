"""Live-mode sources for a simulation: the recorded news sites and KIS served over real HTTP, and
the environment that points the resources at them (read when the code location loads)."""

import contextlib
import os
from collections.abc import Iterator, Sequence

from azak_cli.simulate.as_of import as_of_now
from azak_cli.simulate.faults import Fault, Window
from azak_cli.simulate.kis import SimulatedKis
from azak_cli.simulate.reddit import SimulatedReddit
from azak_pipelines.lib.news.replay import NewsSites
from azak_pipelines.lib.replay_http import Handler, serve
from azak_pipelines.lib.sample_data import sample_data_dir


@contextlib.contextmanager
def live_news(window: Window | None = None, faults: Sequence[Fault] = ()) -> Iterator[NewsSites]:
    """Naver Finance and the RSS feeds in live mode, answered by the recordings as they stood at the
    simulated now (:mod:`azak_cli.simulate.as_of`; Reddit: :func:`live_reddit`; DART stays in replay
    mode: its schedule skips, which the ledger shows), with ``faults`` switched on over ``window``."""
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
        with _environment(variables):
            yield sites


SIMULATION_KEY = "azak-simulation"  # the app key and secret the simulated KIS accepts: not a credential


@contextlib.contextmanager
def live_kis(window: Window, faults: Sequence[Fault] = ()) -> Iterator[SimulatedKis]:
    """KIS in live mode (a real account: the rankings and sector levels too) against the replay
    server on the simulated clock, with generated intraday recordings for the sessions the bundle
    lacks (:mod:`azak_cli.simulate.kis`) and ``faults`` switched on over ``window``."""
    kis = SimulatedKis(sample_data_dir() / "kis", app_key=SIMULATION_KEY, app_secret=SIMULATION_KEY)
    handler: Handler = kis.handle
    for fault in faults:
        handler = fault.serve_kis(window, kis, handler)
    with serve(handler) as url, _environment({
            "AZAK_KIS_MODE": "live", "AZAK_KIS_ENV": "real", "AZAK_KIS_BASE_URL": url, "AZAK_KIS_APP_KEYS": "",
            "AZAK_KIS_APP_KEY": SIMULATION_KEY, "AZAK_KIS_APP_SECRET": SIMULATION_KEY}):
        yield kis


@contextlib.contextmanager
def live_reddit() -> Iterator[SimulatedReddit]:
    """Reddit in live mode (PRAW, with the simulation's app key) against a local server speaking
    Reddit's token and Listing endpoints, answering what was posted by the simulated now, with
    generated posts on the days the recordings lack (:mod:`azak_cli.simulate.reddit`)."""
    reddit = SimulatedReddit(sample_data_dir() / "news" / "reddit")
    with serve(reddit.handle) as url, _environment({
            "AZAK_REDDIT_MODE": "live", "AZAK_REDDIT_BASE_URL": url,
            "AZAK_REDDIT_CLIENT_ID": SIMULATION_KEY, "AZAK_REDDIT_CLIENT_SECRET": SIMULATION_KEY}):
        yield reddit


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
