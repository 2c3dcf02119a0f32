"""Which KRX-listed companies a text is about. Pure: no Dagster, no database.

Names come from the KRX universe (official short names, with the dates each name was held) plus
the seed tables (``linker_tables.py``): aliases (legal, former and English names, Korean readings,
brands, group names of financial holdings, market slang, price nicknames), blockers (unlisted
subsidiaries, groups, teams), securities-firm short forms, and the sector words that decide a bare
group prefix in a pair. One Aho-Corasick automaton finds every candidate; overlapping candidates
are resolved longest-first, so 카카오뱅크 beats 카카오, KT&G beats KT and SK온 (blocked) swallows SK.

A candidate must stand on its own: the character before it may not be a letter or syllable, and
what follows must be a boundary or a Korean particle/suffix (가, 는, 의, 와, 株 …). The rules, each
named in a link's evidence (``azak match --explain``); those that judge a found name are small methods
in ``Linker.RULES``, applied in order, each returning its evidence or nothing:

- ``report_source``: a securities firm cited as a report's source — a headline's tail ("…-KB",
  "…(하나證)") or head before a quote ("키움 "…"", "신한투자證 "…"") — links the firm when it is
  listed (never salient) and nothing when it is not; never the group's holding company.
- ``group_phrase``: "…그룹주", "…家", "…계열", "… 일가" name a group, not its holding company.
- ``group_pair``: a bare group prefix in a pair ("현대·기아", "LG·SK") is the listing whose sector
  words appear in the sentence, or nothing.
- ``price_nickname``: "7만전자", "20만닉스" — a price plus a clipped name.
- ``truncation``: a headline's clipped name ("에코프로머티") when it is the prefix of exactly one listing.
- ``ticker``: "(005930)" links directly and decides the name before it.
- ``ambiguous_short``: short names that are ordinary words (대상, 동양, NEW) need stock context.
- ``dated_name``: a name links to the company that held it on the publication day (renames,
  delistings, code reuse).

Each link has a score in [0, 1], a ``salient`` flag, the surfaces found and the evidence. A company
is salient when the item is about it: named in the title (not as a bystander such as "삼성전자
협력사" or a report source), or — when the title names no company — the content's first sentence
begins with it.
"""

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick

from azak_pipelines.lib.matching.linker_tables import (
    Broker,
    GroupContext,
    NameSpan,
    SeedTables,
    read_seeds,
    rows,
    seeds_digest,
)

LINKER_VERSION = "2.0"

PARTICLES = sorted(
    ["은", "는", "이", "가", "을", "를", "의", "와", "과", "도", "로", "으로", "에", "에서", "에게", "만",
     "까지", "부터", "보다", "처럼", "이나", "나", "랑", "이랑", "과의", "와의", "에도", "에는", "으로서",
     "로서", "측", "주", "주가", "株", "發", "向", "표", "쪽", "이며", "이자", "였다", "이다", "엔",
     "와도", "과도", "만의", "뿐", "조차", "마저", "께서", "한테", "보다도", "에선", "에서도", "이라", "라"],
    key=len, reverse=True)


_PARTICLE = re.compile("|".join(map(re.escape, PARTICLES)))
_PARTICLE_SYLLABLES = frozenset("은는이가을를의와과도로에만나랑")
COMPANY_SUFFIXES = frozenset(["홀딩스", "지주", "제약", "그룹", "에셋", "산업", "건설", "화학", "전자", "증권", "리츠",
                              "코리아", "테크", "바이오", "생명", "보험", "은행", "캐피탈", "인베스트먼트", "파트너스",
                              "글로벌", "시스템", "시스템즈", "솔루션", "솔루션즈", "에너지", "벤처스", "인터내셔널",
                              "코퍼레이션", "엔터테인먼트", "테크놀로지", "테크놀로지스", "공사", "기업", "스팩"])


def _particle_follows(after: str) -> bool:
    return _PARTICLE.match(after) is not None


# words after a name that make it a bystander: "삼성전자 협력사 A" is about A
RELATION_WORDS = ("협력사", "협력업체", "납품", "공급사", "출신", "관련주", "테마주", "수혜주", "대장주",
                  "경쟁사", "고객사")
_RELATION = re.compile(r"\s*(?:" + "|".join(RELATION_WORDS) + ")")
STOCK_CONTEXT = ("주가", "株", "주식", "종목", "(주)", "㈜")
# what makes a name the group rather than the company: 삼성그룹주, LG家, SK 계열사, 한화 일가
GROUP_PHRASE = re.compile(r"\s?(그룹주|그룹|家|계열사|계열|일가|오너家|오너가|오너 일가|총수)")
# words of a research note: a bare group-wide short before a quote is then the securities firm
RESEARCH_WORDS = ("목표가", "목표주가", "투자의견", "매수", "비중", "전망", "업황", "밴드", "상향", "하향",
                  "리포트", "코스피", "코스닥", "증시", "추천", "탑픽", "저평가", "고평가", "실적")
BROKER_SUFFIXES = ("투자증권", "금융투자", "투자證", "증권", "證")
PAIR_MARKS = ("·", "ㆍ", "/", "&", ",", "와", "과")
STRONG_PAIR_MARKS = ("·", "ㆍ", "/", "&")  # the weak ones (",", 와, 과) pair two bare group prefixes only
_PRICE_BEFORE = re.compile(r"(\d+(?:[.,]\d+)?|[일이삼사오육칠팔구십백]{1,3})$")
_TICKER = re.compile(r"\(\s*([0-9][0-9A-Z]{5})\s*\)")
_TAGS = re.compile(r"<[^>]{1,200}>")
_BYLINE_TAIL = re.compile(r"[\s…]*[^\s|…]{1,20}\s*\|\s*\d{4}[-.]\d{2}[-.]\d{2}\.?(\s+\d{1,2}:\d{2})?\s*$")
_DATELINE = re.compile(r"^\s*[\[(][^\])]{0,40}(기자|특파원|=)[^\])]{0,20}[\])]\s*")
_HEAD_TAGS = re.compile(r"^\s*([\[(【][^\])】]{0,12}[\])】]\s*)*")
_SOURCE_TAIL = re.compile(r"(?:[-–—/]|…)\s*([^\s\-–—/…'\"“”‘’()\[\]]{1,14})\s*$")
_SOURCE_PAREN = re.compile(r"[(\[]\s*([^()\[\]\s]{1,14})\s*[)\]]\s*$")
_SOURCE_HEAD = re.compile(r"^\s*(?:[\[【][^\]】]{0,12}[\]】]\s*)*([^\s\"'“‘:,]{1,14})\s*(?=[:\"'“‘])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s|\n")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SPACES = re.compile(r"\s+")
_QUOTES = ("\"", "'", "“", "‘")
_PREFERRED = re.compile(r"(\d?우[A-Z]?|\(전환\)|스팩.*|\d+호.*)$")

BASE_SCORE = {"official": 0.9, "ticker": 0.95, "slang": 0.75, "abbreviation": 0.75, "short_form": 0.75,
              "truncation": 0.7, "price_nickname": 0.75, "report_source": 0.6}


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e"


def _is_word(ch: str) -> bool:
    return (ch.isascii() and ch.isalnum()) or _is_hangul(ch)


@dataclass(frozen=True)
class Surface:
    text: str  # as written in the table (for case checks and output)
    code: str | None  # None: blocked (or a group prefix / unlisted firm decided by a rule)
    kind: str  # official | alias kinds | blocker kinds | broker | group_prefix | truncation
    ambiguous: bool = False
    broker: Broker | None = None
    group: bool = False  # a bare group prefix that the pair rule may decide
    spans: tuple[NameSpan, ...] = ()  # dated holders of an official name


@dataclass
class Match:
    code: str
    name: str
    score: float
    salient: bool
    surface: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self, explain: bool = False) -> dict[str, Any]:
        out = {"code": self.code, "name": self.name, "score": round(self.score, 3),
               "salient": self.salient, "surface": self.surface}
        if explain:
            out["evidence"] = self.evidence
        return out


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    surface: Surface
    in_title: bool
    context: bool  # explicit stock context (ticker, ㈜, 주가 …)


class _Evidence(NamedTuple):
    """What a rule says about a mention: the rule, why, and the listing meant (None: no link)."""

    rule: str
    detail: str
    code: str | None


@dataclass(slots=True)
class _Article:
    """A cleaned title and content with their report sources and mentions, as the rules see them."""

    title: str
    content: str
    day: date | None
    sources: list[tuple[int, int, Broker, str]]
    mentions: list[_Mention]


@dataclass(slots=True)
class _Reading:
    """One mention under the rules: the text it stands in and the evidence so far."""

    article: _Article
    mention: _Mention
    text: str
    evidence: _Evidence


class _Links:
    """The links of one article as they are added: scores, surfaces, evidence and salience."""

    __slots__ = ("_day", "_matches", "_name_on", "_title_codes", "title_names_a_company")

    def __init__(self, linker: "Linker", day: date | None):
        self._name_on = linker.name_on
        self._day = day
        self._matches: dict[str, Match] = {}
        self._title_codes: set[str] = set()
        self.title_names_a_company = False

    def add(self, code: str, score: float, written: str, evidence: dict[str, Any], in_title: bool,
            subject: bool) -> None:
        """A link; a company named again keeps its best score plus a little for each repeat."""
        match = self._matches.get(code)
        if match is None:
            match = self._matches[code] = Match(code, self._name_on(code, self._day), score, False, [])
        else:
            match.score = max(match.score, score) + 0.03
        if written and written not in match.surface:
            match.surface.append(written)
        if evidence not in match.evidence:
            match.evidence.append(evidence)
        if in_title:
            self.title_names_a_company = True
            if subject:
                self._title_codes.add(code)

    def ranked(self, opener: str | None) -> list[Match]:
        """Salient first (the title's subjects, else ``opener``), then by score, then first seen."""
        for code, match in self._matches.items():
            match.score = min(1.0, round(match.score, 4))
            match.salient = code in self._title_codes
        if opener is not None and opener in self._matches:
            self._matches[opener].salient = True
        return sorted(self._matches.values(), key=lambda m: (-m.salient, -m.score))  # stable: ties first seen


def clean_text(text: str | None) -> str:
    """Strip HTML remnants, entities and bylines; NFC; single spaces."""
    if not text:
        return ""
    text = html.unescape(_TAGS.sub(" ", text))
    text = unicodedata.normalize("NFC", text)
    text = _DATELINE.sub("", text)
    if "|" in text:  # a byline tail has one; the regex tries every position (~15% of linking time)
        text = _BYLINE_TAIL.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _fold(text: str) -> str:
    """Lower case for matching, offsets kept. ``str.lower`` is several times faster than a
    translate table on Korean text; it also lowers non-ASCII letters, in the text and in the
    table's keys alike. A character whose lower case is longer (İ) falls back to ASCII-only."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def surface_key(text: str) -> str:
    return _fold(unicodedata.normalize("NFC", text))


class Linker:
    def __init__(self, names: Iterable[tuple[str, str]], aliases: Iterable[tuple[str, str, str]] = (),
                 blockers: Iterable[tuple[str, str]] = (), short_overrides: dict[str, str] | None = None,
                 brokers: Iterable[Broker] = (), group_context: Iterable[GroupContext] = (),
                 history: Iterable[NameSpan] = ()):
        """``names``: (code, current official name); ``aliases``: (alias, code, kind); ``blockers``:
        (surface, kind); ``short_overrides``: name → safe | ambiguous | alias_wins; ``brokers``: the
        securities firms' short forms; ``group_context``: sector words for bare group prefixes;
        ``history``: dated names (``computed.stock_history``) — without it every name is current."""
        self.names: dict[str, str] = dict(names)
        overrides = short_overrides or {}
        self.brokers = {b.short: b for b in brokers}
        self.group_context: dict[str, list[GroupContext]] = {}
        for rule in group_context:
            self.group_context.setdefault(rule.prefix, []).append(rule)
        self._code_spans: dict[str, list[NameSpan]] = {}
        for span in history:
            self._code_spans.setdefault(span.code, []).append(span)
        surfaces: dict[str, Surface] = {}
        for code, name in self.names.items():
            surfaces[surface_key(name)] = Surface(name, code, "official", self._ambiguous(name, overrides))
        self._add_history(surfaces)
        self._add_truncations(surfaces, aliases, blockers)
        for alias, code, kind in aliases:
            if code not in self.names:
                raise ValueError(f"alias {alias!r} points at {code}, which is not in the universe")
            key = surface_key(alias)
            if key in surfaces and surfaces[key].kind == "official" and overrides.get(alias) != "alias_wins":
                continue  # an official name wins over an alias spelled the same
            surfaces[key] = Surface(alias, code, kind, overrides.get(alias) == "ambiguous")
        for surface, kind in blockers:
            surfaces[surface_key(surface)] = Surface(surface, None, kind)
        for broker in self.brokers.values():
            for suffix in BROKER_SUFFIXES:
                key = surface_key(broker.short + suffix)
                if key not in surfaces or surfaces[key].kind in {"official", "abbreviation", "short_form"}:
                    broker_code = broker.code if key not in surfaces else surfaces[key].code
                    surfaces[key] = Surface(broker.short + suffix, broker_code if broker.code else None,
                                            "broker", broker=broker)
        for firm in {b.firm: b for b in self.brokers.values()}.values():
            key = surface_key(firm.firm)
            current = surfaces.get(key)
            surfaces[key] = Surface(firm.firm, firm.code, current.kind if current else "broker",
                                    broker=firm, spans=current.spans if current else ())
        for prefix in self.group_context:
            current = surfaces.get(surface_key(prefix))
            if current is None:
                surfaces[surface_key(prefix)] = Surface(prefix, None, "group_prefix", group=True)
            else:
                surfaces[surface_key(prefix)] = Surface(current.text, current.code, current.kind, current.ambiguous,
                                                 current.broker, True, current.spans)
        self.surfaces = surfaces
        self._automaton = ahocorasick.Automaton()
        for key, entry in surfaces.items():
            self._automaton.add_word(key, (len(key), entry))
        self._automaton.make_automaton()

    @staticmethod
    def _ambiguous(name: str, overrides: dict[str, str]) -> bool:
        if name in overrides:
            return overrides[name] == "ambiguous"
        if name.isascii():
            return len(name) <= 2 or (len(name) <= 3 and name.isalpha() and not name.isupper())
        return len(name) <= 2

    def _add_history(self, surfaces: dict[str, Surface]) -> None:
        """Dated names: a current name keeps its spans; an older name links while it was held."""
        by_name: dict[str, list[NameSpan]] = {}
        for spans in self._code_spans.values():
            for span in spans:
                by_name.setdefault(span.name, []).append(span)
        for name, spans in by_name.items():
            ordered = tuple(sorted(spans, key=lambda s: s.valid_from or date.min))
            current = surfaces.get(surface_key(name))
            code = current.code if current else ordered[-1].code
            surfaces[surface_key(name)] = Surface(name, code, "official",
                                                  current.ambiguous if current else len(name) <= 2,
                                                  spans=ordered)

    def _add_truncations(self, surfaces: dict[str, Surface], aliases: Iterable[tuple[str, str, str]],
                         blockers: Iterable[tuple[str, str]]) -> None:
        """Clipped names: a prefix (≥ 3 syllables, 2+ characters cut) of a long official name that
        starts no other name, alias or blocker. Whether a found prefix counts is decided in
        :meth:`_truncation_holds` (a list page's ".." after it, or a long, word-final prefix)."""
        everything = ([n for n in surfaces] + [surface_key(a) for a, _, _ in aliases]
                      + [surface_key(b) for b, _ in blockers])
        everything += [surface_key(b.firm) for b in self.brokers.values()]
        starts: dict[str, int] = {}
        for text in set(everything):
            for n in range(3, len(text) + 1):
                starts[text[:n]] = starts.get(text[:n], 0) + 1
        for code, name in self.names.items():
            if len(name) < 5 or " " in name or _PREFERRED.search(name) or any(c.isdigit() for c in name):
                continue
            for n in range(3, len(name) - 1):
                prefix = surface_key(name[:n])
                if sum(map(_is_hangul, prefix)) < 3 or prefix[-1].isascii():
                    continue
                if starts.get(prefix) == 1 and prefix not in surfaces:
                    surfaces[prefix] = Surface(name[:n], code, "truncation")

    def _truncation_holds(self, text: str, start: int, stop: int, surface: Surface) -> bool:
        """A clipped name counts when a list page's ellipsis follows it ("에이비엘바이.."), or when
        it keeps ≥ 5 characters and ≥ 60% of a name of ≥ 7, does not end in a particle syllable
        (so "바이오에 투자" is not a clipped "바이오에…" company) and what it cuts off is not a word of
        its own ("유나이티드|제약", "한진중공업|홀딩스": the prefix is then a different name)."""
        if text.startswith(("..", "…"), stop):
            return True
        full = self.names.get(surface.code or "", "")
        return (len(surface.text) >= 5 and len(full) >= 7 and len(surface.text) >= 0.6 * len(full)
                and surface.text[-1] not in _PARTICLE_SYLLABLES
                and full[len(surface.text):] not in COMPANY_SUFFIXES)

    # -- candidates -------------------------------------------------------------------------------

    def _candidates(self, text: str, lowered: str, in_title: bool) -> list[_Mention]:
        found = []
        for end, (length, surface) in self._automaton.iter(lowered):
            start = end - length + 1
            stop = end + 1
            written = text[start:stop]
            if surface.text.isascii() and len(surface.text) <= 3 and written != surface.text:
                continue  # short Latin names match in their own case only (SK, not "sk" in "ask")
            if surface.kind == "price_nickname":
                price = _PRICE_BEFORE.search(text, 0, start)
                if not price or (price.start() > 0 and _is_word(text[price.start() - 1])):
                    continue
                start = price.start()
            elif (surface.code is not None or surface.group or surface.broker) and (
                    start > 0 and _is_word(text[start - 1])):
                continue  # inside a longer word
            if surface.kind == "truncation" and not self._truncation_holds(text, start, stop, surface):
                continue
            if surface.code is not None or surface.group or surface.broker:
                after = text[stop:stop + 6]
                if after and _is_word(after[0]) and not (_is_hangul(after[0]) and _particle_follows(after)):
                    continue  # followed by more of a word that is not a particle
            # stock context matters for ambiguous names only: look for it only then
            found.append(_Mention(start, stop, surface, in_title,
                                  surface.ambiguous and self._has_context(text, start, stop)))
        for ticker in _TICKER.finditer(text):
            code = ticker.group(1)
            if code in self.names or code in self._code_spans:
                found.append(_Mention(ticker.start(), ticker.end(),
                                      Surface(ticker.group(0), code, "ticker"), in_title, True))
        return found

    @staticmethod
    def _has_context(text: str, start: int, stop: int) -> bool:
        after = text[stop:stop + 8].lstrip()
        before = text[max(0, start - 4):start]
        if _TICKER.match(text[stop:stop + 12].lstrip()) or "㈜" in before or "(주)" in before:
            return True
        return any(after.startswith(word) for word in STOCK_CONTEXT)

    @staticmethod
    def _resolve(mentions: list[_Mention]) -> list[_Mention]:
        """Longest first; a kept span (blockers included) shadows everything overlapping it."""
        kept: list[_Mention] = []
        taken: list[tuple[int, int]] = []
        for mention in sorted(mentions, key=lambda m: (-(m.end - m.start), m.start)):
            if mention.surface.kind == "ticker":
                kept.append(mention)
                continue
            if any(mention.start < e and s < mention.end for s, e in taken):
                continue
            taken.append((mention.start, mention.end))
            kept.append(mention)
        return sorted(kept, key=lambda m: (not m.in_title, m.start))

    # -- report sources ---------------------------------------------------------------------------

    def _broker_of(self, token: str) -> Broker | None:
        surface = self.surfaces.get(surface_key(token))
        if surface is not None and surface.broker is not None:
            return surface.broker
        for suffix in BROKER_SUFFIXES:
            if token.endswith(suffix) and token[:-len(suffix)] in self.brokers:
                return self.brokers[token[:-len(suffix)]]
        return self.brokers.get(token)

    def _report_sources(self, title: str) -> list[tuple[int, int, Broker, str]]:
        """Spans of the title that cite a securities firm as the source of a report or opinion."""
        found = []
        for pattern, where in ((_SOURCE_TAIL, "title tail"), (_SOURCE_PAREN, "title tail")):
            tail = pattern.search(title)
            if tail and tail.start() > 0:
                broker = self._broker_of(tail.group(1))
                if broker is not None:
                    found.append((tail.start(1), tail.end(1), broker, where))
                    break
        head = _SOURCE_HEAD.match(title)
        if head:
            token = head.group(1)
            broker = self._broker_of(token)
            explicit = token not in self.brokers  # written with 증권/證: the firm for sure
            if broker is not None and (explicit or broker.bare_source or
                                       any(word in title for word in RESEARCH_WORDS)):
                found.append((head.start(1), head.end(1), broker, "title head before a quote"))
        return found

    @staticmethod
    def _cited_at_end(text: str, mention: _Mention) -> bool:
        """A firm's full name cited at the end: "…목표가 상향-NH투자증권", "…(한투증권)"."""
        before = text[:mention.start].rstrip()
        tail = text[mention.end:].strip()
        cited = before.endswith(("-", "–", "—", "/", "(", "[", "'")) or before.endswith("…")
        return cited and (not tail or tail in {")", "]", "'", "\""} or tail.startswith(("|", "·")))

    # -- judgement --------------------------------------------------------------------------------

    @staticmethod
    def _bystander(text: str, mention: _Mention) -> bool:
        return _RELATION.match(text, mention.end) is not None

    @staticmethod
    def _subject_slot(text: str, mention: _Mention) -> bool:
        """At the start of a title (after tags such as [특징주]) and followed by a comma-like mark or
        a subject particle: "대상, 3분기 실적" — not "대상으로" or "동양 철학"."""
        head = _HEAD_TAGS.sub("", text[:mention.start])
        after = text[mention.end:mention.end + 2]
        return head == "" and (after[:1] in {",", "·", "…", ""} or
                               any(after.startswith(p) for p in ("은 ", "는 ", "이 ", "가 ")))

    @staticmethod
    def _sentence_subject(content: str, mentions: list[_Mention]) -> str | None:
        lead = len(content) - len(_HEAD_TAGS.sub("", content))
        for mention in mentions:
            if not mention.in_title and mention.surface.code and mention.start == lead:
                return mention.surface.code
        return None

    @staticmethod
    def _paired(text: str, mention: _Mention, others: list[_Mention]) -> bool:
        """Next to another name across a pair mark: "현대·기아", "LG·SK", "삼성과 LG"."""
        before = text[:mention.start].rstrip()
        after = text[mention.end:].lstrip()
        for other in others:
            if other is mention or (other.surface.code is None and not other.surface.group):
                continue
            marks = PAIR_MARKS if other.surface.group else STRONG_PAIR_MARKS
            if other.end <= mention.start and before.endswith(marks) and (
                    text[other.end:mention.start].strip() in marks):
                return True
            if other.start >= mention.end and after.startswith(marks) and (
                    text[mention.end:other.start].strip() in marks):
                return True
        return False

    def _pair_code(self, text: str, mention: _Mention) -> tuple[str | None, str]:
        """The listing a paired bare group prefix means in this sentence, or None."""
        sentence = self._sentence_around(text, mention.start)
        for rule in self.group_context.get(mention.surface.text, []):
            for word in rule.keywords:
                if word in sentence:
                    return rule.code, word
        return None, ""

    @staticmethod
    def _sentence_around(text: str, position: int) -> str:
        start = 0
        for boundary in _SENTENCE_END.finditer(text):
            if boundary.start() >= position:
                return text[start:boundary.start()]
            start = boundary.end()
        return text[start:]

    def _code_on(self, surface: Surface, day: date | None) -> tuple[str | None, str]:
        """The code that held ``surface`` on ``day``, and why (for the evidence)."""
        if not surface.spans:
            return surface.code, ""
        first, last = surface.spans[0], surface.spans[-1]
        if day is None:  # as of now: the current holder, or the company that took a new name
            keeps = last.valid_to is None or last.ended_by == "renamed"
            return (last.code, "") if keeps else (None, "")
        for span in surface.spans:
            if span.holds(day):
                return span.code, f"held the name on {day}"
        if first.valid_from is not None and day < first.valid_from:
            if any(s.holds(day) for s in self._code_spans.get(first.code, [])):
                return None, f"{first.code} belonged to another company on {day}"
            return first.code, f"listed from {first.valid_from} (news before the listing)"
        if last.ended_by == "renamed" and any(s.holds(day) for s in self._code_spans.get(last.code, [])
                                              if s.name != surface.text):
            return last.code, f"former name (renamed {last.valid_to})"
        return None, f"no listing held the name on {day} ({last.ended_by or 'ended'} {last.valid_to})"

    def name_on(self, code: str, day: date | None) -> str:
        """The name ``code`` was listed under on ``day`` (the current name without a day)."""
        if day is not None:
            for span in self._code_spans.get(code, []):
                if span.holds(day):
                    return span.name
        if code in self.names:
            return self.names[code]
        spans = self._code_spans.get(code)
        return spans[-1].name if spans else code

    def link(self, title: str | None, content: str | None = None, day: date | None = None) -> list[Match]:
        """The companies ``title``/``content`` name, as of ``day`` (the publication day) when given:
        every mention goes through :attr:`RULES`; the survivors are scored and ranked."""
        article = self._article(title, content, day)
        links = _Links(self, day)
        for start, stop, broker, where in article.sources:
            if broker.code is not None and broker.code in self.names:
                written = article.title[start:stop]
                links.add(broker.code, BASE_SCORE["report_source"], written,
                          {"rule": "report_source", "surface": written, "where": "title",
                           "detail": f"{where}: cites {broker.firm}"}, True, False)
        for mention in article.mentions:
            reading = self._judge(article, mention)
            if reading.evidence.code is not None:
                self._add_scored(links, reading)
            elif reading.evidence.rule == "group_phrase" and mention.in_title:
                links.title_names_a_company = True  # the title is about a group: its members are bystanders
        opener = None
        if not links.title_names_a_company and article.content:  # the subject opens the first sentence
            opener = self._sentence_subject(article.content, article.mentions)
        return links.ranked(opener)

    def _article(self, title: str | None, content: str | None, day: date | None) -> _Article:
        title = clean_text(title)
        content = clean_text(content)
        mentions: list[_Mention] = []
        for text, in_title in ((title, True), (content, False)):
            if text:
                mentions += self._resolve(self._candidates(text, _fold(text), in_title))
        return _Article(title, content, day, self._report_sources(title) if title else [], mentions)

    def _judge(self, article: _Article, mention: _Mention) -> _Reading:
        """Apply the rules in order; a rule that decides no listing ends the mention's reading."""
        rule, detail = self._rule_of(mention.surface)
        reading = _Reading(article, mention, article.title if mention.in_title else article.content,
                           _Evidence(rule, detail, mention.surface.code))
        for apply in self.RULES:
            found = apply(self, reading)
            if found is not None:
                reading.evidence = found
                if found.code is None:
                    break
        return reading

    def _add_scored(self, links: _Links, reading: _Reading) -> None:
        """Score a linked mention: its kind, title or content (and how early), and whether it is a
        cited source or a bystander."""
        mention, evidence, text = reading.mention, reading.evidence, reading.text
        assert evidence.code is not None
        cited = evidence.rule == "report_source"  # _cited_source ran last and kept the listing
        bystander = self._bystander(text, mention)
        base = BASE_SCORE["report_source"] if cited else BASE_SCORE.get(mention.surface.kind, 0.8)
        if mention.surface.ambiguous:
            base -= 0.15
        weight = 1.0 if mention.in_title else (0.8 if mention.start < 120 else 0.6)
        detail = evidence.detail
        if bystander:
            weight *= 0.6
            detail += "; bystander (followed by a relation word)"
        written = text[mention.start:mention.end]
        links.add(evidence.code, base * weight, written,
                  {"rule": evidence.rule, "surface": written,
                   "where": "title" if mention.in_title else "content", "detail": detail},
                  mention.in_title, not bystander and not cited)

    # -- the rules: each returns its evidence (with the listing it decides, or None) or nothing ----

    def _in_citation(self, reading: _Reading) -> _Evidence | None:
        """``report_source``: part of a title's report-source citation, already linked as such."""
        mention, sources = reading.mention, reading.article.sources
        if mention.in_title and sources and any(s <= mention.start < e or mention.start <= s < mention.end
                                                for s, e, _, _ in sources):
            return _Evidence("report_source", "part of a report-source citation", None)
        return None

    def _dated_name(self, reading: _Reading) -> _Evidence | None:
        """``dated_name``: the company that held the name on the publication day."""
        surface = reading.mention.surface
        if not surface.spans:
            return None
        code, why = self._code_on(surface, reading.article.day)
        if code is None or why:
            return _Evidence("dated_name", f"'{surface.text}' {why or 'is no current name'}", code)
        if code == reading.evidence.code:
            return None  # the name's current holder: nothing to add
        return _Evidence(reading.evidence.rule, reading.evidence.detail, code)

    def _group_pair(self, reading: _Reading) -> _Evidence | None:
        """``group_pair``: a bare group prefix in a pair is the listing of the sentence's sector
        words, or nothing (a pair of groups)."""
        mention, text = reading.mention, reading.text
        if not mention.surface.group or not self._paired(
                text, mention, [m for m in reading.article.mentions if m.in_title == mention.in_title]):
            return None
        code, word = self._pair_code(text, mention)
        said = f"the sentence says '{word}'" if code else "no sector word"
        return _Evidence("group_pair", f"bare '{mention.surface.text}' in a pair; {said}", code)

    def _group_phrase(self, reading: _Reading) -> _Evidence | None:
        """``group_phrase``: 삼성그룹주, LG家, SK 계열사 name the group, not its holding company."""
        mention, text, surface = reading.mention, reading.text, reading.mention.surface
        if surface.kind == "group" or (reading.evidence.code is not None and (
                GROUP_PHRASE.match(text, mention.end) is not None or (
                    surface.text.endswith("그룹") and text[mention.end:mention.end + 1] == "주"))):
            return _Evidence("group_phrase", f"'{surface.text}' names a group", None)
        return None

    def _blocked(self, reading: _Reading) -> _Evidence | None:
        """A blocker (unlisted subsidiary, group, team), an unlisted firm or an undecided prefix."""
        if reading.evidence.code is None:
            surface = reading.mention.surface
            return _Evidence("blocked", f"{surface.kind} '{surface.text}' is no listing", None)
        return None

    def _ticker_decides(self, reading: _Reading) -> _Evidence | None:
        """``ticker``: "모비스(250060)" — a listed code right after a name decides it."""
        mention, text = reading.mention, reading.text
        follows = "(" in text[mention.end:mention.end + 3] and _TICKER.match(
            text[mention.end:mention.end + 12].lstrip())
        if follows and mention.surface.kind != "ticker" and follows.group(1) != reading.evidence.code and (
                follows.group(1) in self.names or follows.group(1) in self._code_spans):
            return _Evidence("ticker", f"stock code {follows.group(1)} follows the name", None)
        return None

    def _ambiguous_short(self, reading: _Reading) -> _Evidence | None:
        """``ambiguous_short``: a name that is also a word (대상, 동양, NEW) needs stock context or the
        subject slot of a title."""
        mention, surface = reading.mention, reading.mention.surface
        if not surface.ambiguous:
            return None
        if not mention.context and not (mention.in_title and self._subject_slot(reading.text, mention)):
            return _Evidence("ambiguous_short", f"'{surface.text}' is also a word; no stock context", None)
        return _Evidence("ambiguous_short", f"'{surface.text}' is also a word; stock context present",
                         reading.evidence.code)

    def _cited_source(self, reading: _Reading) -> _Evidence | None:
        """``report_source``: a securities firm named in the title as a report's source."""
        mention, text, broker = reading.mention, reading.text, reading.mention.surface.broker
        if broker is None or not mention.in_title:
            return None
        if self._cited_at_end(text, mention) or text[mention.end:].lstrip().startswith(_QUOTES):
            return _Evidence("report_source", f"{broker.firm} cited as the source", reading.evidence.code)
        return None

    # in order: a later rule sees what the earlier ones decided
    RULES = (_in_citation, _dated_name, _group_pair, _group_phrase, _blocked, _ticker_decides,
             _ambiguous_short, _cited_source)

    @staticmethod
    def _rule_of(surface: Surface) -> tuple[str, str]:
        kind = surface.kind
        if kind == "official":
            return "official_name", f"listed name '{surface.text}'"
        if kind == "ticker":
            return "ticker", f"stock code {surface.code} in parentheses"
        if kind == "truncation":
            return "truncation", f"'{surface.text}' starts exactly one listed name"
        if kind == "price_nickname":
            return "price_nickname", f"price nickname '…{surface.text}'"
        if kind == "broker":
            return "broker", f"securities firm '{surface.text}'"
        return "alias", f"{kind} '{surface.text}' (stock_aliases)"


# -- loading the tables ---------------------------------------------------------------------------


def linker_from_tables(universe: Iterable[tuple[str, str]], tables: SeedTables,
                       history: Iterable[NameSpan] = ()) -> Linker:
    return Linker(universe, _with_group_names(universe, tables.aliases), tables.blockers, tables.overrides,
                  tables.brokers, tables.group_context, history)


def _with_group_names(universe: Iterable[tuple[str, str]],
                      aliases: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Financial holdings are named by their group: "X금융그룹", "X금융" and "X금융지주" for a
    listed "X금융" or "X금융지주" (KB금융그룹 → KB금융, 하나금융그룹 → 하나금융지주)."""
    have = {alias for alias, _, _ in aliases}
    names = {name for _, name in universe}
    out = list(aliases)
    for code, name in universe:
        stem = re.match(r"^(.+?)금융(지주)?$", name)
        if not stem or _PREFERRED.search(name):
            continue
        for alias in (f"{stem.group(1)}금융", f"{stem.group(1)}금융지주", f"{stem.group(1)}금융그룹"):
            if alias not in have and alias not in names:
                out.append((alias, code, "group_name"))
                have.add(alias)
    return out


def load_linker(listing: Path, seeds: Path, history: Iterable[NameSpan] = ()) -> Linker:
    """A linker over a listing CSV (``code,name,…``) and the seed tables in ``seeds``."""
    universe = [(r["code"], r["name"]) for r in rows(listing)]
    return linker_from_tables(universe, read_seeds(seeds), history)


def load_linker_from_rows(universe: Iterable[tuple[Any, ...]], seeds: Path, history: Iterable[NameSpan] = ()) -> Linker:
    """A linker over (code, name, …) rows — e.g. ``raw.stocks`` — and the seed tables."""
    return linker_from_tables([(row[0], row[1]) for row in universe], read_seeds(seeds), history)


def tables_version(seeds: Path) -> str:
    """A short hash of the seed tables: matches are recomputed when they or the linker change."""
    return f"{LINKER_VERSION}+{seeds_digest(seeds)[:10]}"
