"""Reddit in live mode for a simulation: a local server speaking what the platform's client (PRAW,
``lib/news/collect.py``) asks of Reddit — the OAuth token and the subreddits' ``hot`` and ``new``
Listings — answered from the recorded Listings as they stood at the simulated now (posts created
after it are left out), with **generated** posts, titled ``[generated] …`` and naming a watch-list
company, at :data:`GENERATED_SLOTS` KST of each day around the now that the recordings hold no post
of (the bundle records a handful of posts of 2 to 17 June 2025: every other day gets generated ones)."""

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from azak_cli.simulate.as_of import GENERATED_COMPANY_EN, GENERATED_SLOTS
from azak_core import clock
from azak_core.market import KST
from azak_pipelines.lib.replay_http import Answer

TOKEN_PATH = "/api/v1/access_token"
LISTINGS = ("hot", "new")
GENERATED_DAYS = 2  # today and yesterday (KST): the lookback of the platform's filter is 24 hours
# what a generated post carries so that the platform's filter keeps it as it keeps a real one: a
# keyword of the default list, a score and comments above the default minimums (10 and 2)
GENERATED_SCORE, GENERATED_COMMENTS = 25, 4
GENERATED_NOTE = "Azak simulation: a generated post for a day the recordings do not cover."


class SimulatedReddit:
    """The recorded Listings under ``recordings`` (``{subreddit}_{listing}.json.gz``) on the clock."""

    def __init__(self, recordings: Path):
        self.posts: dict[str, list[dict[str, Any]]] = {}
        for path in sorted(recordings.glob("*.json*")):
            raw = path.read_bytes()
            payload = json.loads(gzip.decompress(raw) if path.name.endswith(".gz") else raw)
            name = path.name.split(".")[0]
            self.posts[name] = [child["data"] for child in payload["data"]["children"] if child.get("kind") == "t3"]
        self.requests: list[str] = []

    def handle(self, method: str, path: str, headers: dict[str, str], query: dict[str, str], body: bytes) -> Answer:
        self.requests.append(path)
        json_type = {"content-type": "application/json; charset=UTF-8"}
        if path == TOKEN_PATH and method == "POST":
            return 200, json_type, {"access_token": "simulated", "token_type": "bearer", "expires_in": 3600,
                                    "scope": "*"}
        segments = [s for s in path.split("/") if s]
        if len(segments) != 3 or segments[0] != "r" or segments[2] not in LISTINGS:
            return 404, json_type, {"message": "Not Found", "error": 404}
        return 200, json_type, self.listing(segments[1], segments[2], clock.utc_now())

    def listing(self, subreddit: str, kind: str, now: datetime) -> dict[str, Any]:
        """The Listing as it stood at ``now``: recorded posts created by then, newest first, and the
        generated ones of the days around it the recordings lack (one page: ``after`` is null)."""
        recorded = [p for name, posts in self.posts.items() if name.lower() == f"{subreddit}_{kind}".lower()
                    for p in posts]
        recorded_days = {_created(p).astimezone(KST).date() for name, posts in self.posts.items()
                         if name.lower().startswith(f"{subreddit.lower()}_") for p in posts}
        posts = [p for p in recorded if _created(p) <= now]
        posts += [generated_post(subreddit, at) for at in generated_times(now, recorded_days)]
        posts.sort(key=lambda p: float(p["created_utc"]), reverse=True)
        return {"kind": "Listing", "data": {"after": None, "before": None, "dist": len(posts), "modhash": "",
                                            "children": [{"kind": "t3", "data": p} for p in posts]}}


def generated_times(now: datetime, recorded_days: set[date]) -> list[datetime]:
    """When generated posts appear on the days around ``now`` the recordings hold no post of."""
    today = now.astimezone(KST).date()
    days = [today - timedelta(days=back) for back in range(GENERATED_DAYS)]
    return [at for day in days if day not in recorded_days
            for at in (datetime.combine(day, slot, KST) for slot in GENERATED_SLOTS) if at <= now]


def generated_post(subreddit: str, at: datetime) -> dict[str, Any]:
    """A post at ``at`` labelled generated (title, text, author and id say so)."""
    local = at.astimezone(KST)
    post_id = f"gen{local:%Y%m%d%H%M}{subreddit.lower()}"[:40]
    permalink = f"/r/{subreddit}/comments/{post_id}/generated/"
    return {"id": post_id, "name": f"t3_{post_id}", "subreddit": subreddit,
            "title": f"[generated] {GENERATED_COMPANY_EN} and the KOSPI on {local:%d %B %Y} at {local:%H:%M} KST",
            "selftext": GENERATED_NOTE, "score": GENERATED_SCORE, "num_comments": GENERATED_COMMENTS,
            "upvote_ratio": 0.9, "created_utc": at.astimezone(UTC).timestamp(), "permalink": permalink,
            "author": "azak_simulation", "link_flair_text": "generated", "is_self": True, "over_18": False,
            "url": f"https://www.reddit.com{permalink}"}


def _created(post: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(post["created_utc"]), UTC)
