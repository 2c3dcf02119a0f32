"""Canonical URLs, so the same article reached by different links is one article."""

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ref", "referrer")
SCHEMES = ("http", "https")


class UnsafeUrl(ValueError):
    """A link that is not an http(s) address with a host (``javascript:``, ``data:``, ``file:``, …):
    the API would hand it to browsers, so the item is rejected."""


def naver_article(url: str) -> tuple[str, str] | None:
    """(office_id, article_id) of a Naver news link, in any of Naver's URL shapes."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    office = query.get("office_id") or query.get("officeId") or query.get("oid")
    article = query.get("article_id") or query.get("articleId") or query.get("aid")
    if office and article:
        return office, article
    segments = [s for s in parts.path.split("/") if s]
    if "article" in segments:
        i = segments.index("article")
        if len(segments) >= i + 3 and segments[i + 1].isdigit() and segments[i + 2].isdigit():
            return segments[i + 1], segments[i + 2]
    return None


# already canonical: lower-case http(s) scheme and host, a path of non-empty segments (no trailing
# slash), no query, no fragment — what the rules below would give back unchanged (an import's
# million URLs skip the split and the rebuild; a test holds the two ways equal)
_CANONICAL = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@-]+)+")


def canonical_url(url: str, base: str | None = None) -> str:
    """Naver articles → n.news.naver.com/mnews/article/<office>/<article>; others lose tracking
    parameters, fragments and trailing slashes, with a lower-case scheme and host. Anything but an
    absolute http(s) URL with a host raises :class:`UnsafeUrl`."""
    if not base and _CANONICAL.fullmatch(url) and "naver.com" not in url:
        return url
    return rebuilt_url((urljoin(base, url) if base else url).strip())


def rebuilt_url(absolute: str) -> str:
    """:func:`canonical_url`'s rules applied to an absolute URL."""
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        shown = absolute if len(absolute) <= 80 else absolute[:77] + "..."
        raise UnsafeUrl(f"the link is not an http(s) address with a host: {shown!r}")
    naver = naver_article(absolute) if "naver.com" in absolute else None
    if naver:
        return f"https://n.news.naver.com/mnews/article/{naver[0]}/{naver[1]}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not any(k.lower() == t or (t.endswith("_") and k.lower().startswith(t)) for t in TRACKING)]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path,
                       urlencode(query), ""))
