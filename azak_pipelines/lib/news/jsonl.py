"""News from JSON Lines files (``azak import news``): one object per line with ``title``,
``summary`` or ``content``, ``published_at`` (ISO 8601 with an offset), ``source`` and an optional
``url``. Bad lines are rejected with file, line and reason."""

import hashlib
import json
from datetime import datetime
from pathlib import Path

from azak_pipelines.lib.news.dates import DateError, parse_iso
from azak_pipelines.lib.news.items import CONTENT_TYPES, NewsItem, ParseResult, Rejected
from azak_pipelines.lib.news.text import clean_or_reason
from azak_pipelines.lib.news.urls import UnsafeUrl, canonical_url


class NewsFileError(ValueError):
    """The file as a whole cannot be read."""


def _file_urn(source: str, title: str, published: datetime) -> str:
    """The identity of an item without a URL."""
    return f"urn:azak:file:{hashlib.sha256(f'{source}|{title}|{published.isoformat()}'.encode()).hexdigest()[:24]}"


def read_news_file(path: Path) -> ParseResult:
    result = ParseResult(container="one JSON object per line")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise NewsFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise NewsFileError(f"{path}: not UTF-8 text") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        result.rows_seen += 1
        where = f"{path.name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            result.rejected.append(Rejected(where, f"not JSON: {exc.msg}", line[:500]))
            continue
        if not isinstance(record, dict):
            result.rejected.append(Rejected(where, "each line must be a JSON object", line[:500]))
            continue
        title, problem = clean_or_reason(record.get("title"))
        if not title:
            result.rejected.append(Rejected(where, "title is missing or empty", line[:500]))
            continue
        if problem:
            result.rejected.append(Rejected(where, f"title {problem}", line[:500]))
            continue
        try:
            published = parse_iso(str(record.get("published_at") or ""))
        except DateError as exc:
            result.rejected.append(Rejected(where, f"published_at: {exc}", line[:500]))
            continue
        source = str(record.get("source") or "").strip()
        if not source:
            result.rejected.append(Rejected(where, "source is missing", line[:500]))
            continue
        content_type = str(record.get("content_type") or "news")
        if content_type not in CONTENT_TYPES:
            result.rejected.append(Rejected(where, f"content_type must be one of {CONTENT_TYPES}", line[:500]))
            continue
        summary = clean_or_reason(record.get("summary") or record.get("content") or "")[0][:2000]
        raw_url = str(record.get("url") or "").strip()
        try:
            url = canonical_url(raw_url) if raw_url else _file_urn(source, title, published)
        except UnsafeUrl as exc:
            result.rejected.append(Rejected(where, f"url: {exc}", line[:500]))
            continue
        result.items.append(NewsItem(
            source=f"file:{path.name}", item_key=f"file:{url}", title=title, summary=summary,
            url=url, press=source, published_at=published, published_precision="second",
            content_type=content_type, extra={"line": number},
        ))
    return result
