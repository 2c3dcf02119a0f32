"""Reddit submissions → items, with the collection filters. Pure: listing JSON or PRAW's
submission fields in."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from azak_pipelines.lib.news.items import NewsItem, ParseResult, Rejected
from azak_pipelines.lib.news.text import clean_or_reason

FIELDS = ("id", "title", "selftext", "permalink", "created_utc", "score", "num_comments",
          "upvote_ratio", "subreddit", "author", "link_flair_text", "is_self", "url", "over_18")


@dataclass(frozen=True)
class RedditFilter:
    keywords: tuple[str, ...]
    min_score: int = 10
    min_comments: int = 2
    max_age: timedelta = timedelta(hours=24)

    def reason_to_skip(self, post: dict[str, Any], fetched_at: datetime) -> str | None:
        if (post.get("score") or 0) < self.min_score:
            return f"score {post.get('score')} below {self.min_score}"
        if (post.get("num_comments") or 0) < self.min_comments:
            return f"{post.get('num_comments')} comments, below {self.min_comments}"
        created = post.get("created_utc")
        if created is not None and fetched_at - datetime.fromtimestamp(float(created), UTC) > self.max_age:
            return f"older than {self.max_age}"
        text = f"{post.get('title', '')} {post.get('selftext', '')}".lower()
        if self.keywords and not any(k.lower() in text for k in self.keywords):
            return "no keyword"
        return None


def listing_posts(data: bytes) -> list[dict[str, Any]]:
    payload = json.loads(data)
    if payload.get("kind") != "Listing":
        raise ValueError(f"not a Reddit Listing (kind={payload.get('kind')!r})")
    return [child["data"] for child in payload["data"]["children"] if child.get("kind") == "t3"]


def submission_fields(submission: Any) -> dict[str, Any]:
    """The same fields from a PRAW Submission (whose subreddit and author are objects)."""
    post = {name: getattr(submission, name, None) for name in FIELDS}
    post["subreddit"] = str(post["subreddit"]) if post["subreddit"] is not None else None
    post["author"] = str(post["author"]) if post["author"] is not None else None
    return post


def parse_posts(posts: list[dict[str, Any]], rules: RedditFilter, fetched_at: datetime) -> tuple[ParseResult, int]:
    """Items for posts that pass ``rules``; returns the result and how many were filtered out."""
    result = ParseResult(container="Listing.children[kind=t3]")
    filtered = 0
    for post in posts:
        result.rows_seen += 1
        locator = f"reddit:{post.get('id') or '?'}"
        skip = rules.reason_to_skip(post, fetched_at)
        if skip:
            filtered += 1
            continue
        title, problem = clean_or_reason(post.get("title"))
        if not title or problem:
            result.lack("title")
            result.rejected.append(Rejected(locator, f"title {problem or 'is empty'}", ""))
            continue
        if post.get("created_utc") is None or not post.get("permalink"):
            result.lack("created_utc" if post.get("created_utc") is None else "permalink")
            result.rejected.append(Rejected(locator, "post without created_utc or permalink", title))
            continue
        summary = clean_or_reason(post.get("selftext"))[0][:500]
        subreddit = post.get("subreddit") or ""
        result.items.append(NewsItem(
            source="reddit", item_key=f"reddit:{post['id']}", title=title, summary=summary,
            url=f"https://www.reddit.com{post['permalink']}", press=f"r/{subreddit}",
            published_at=datetime.fromtimestamp(float(post["created_utc"]), UTC),
            published_precision="second", content_type="social",
            extra={"score": post.get("score"), "num_comments": post.get("num_comments"),
                   "upvote_ratio": post.get("upvote_ratio"), "subreddit": subreddit,
                   "author": post.get("author"), "flair": post.get("link_flair_text")},
        ))
    return result, filtered
