"""Which KRX-listed companies a text is about. Pure: no Dagster, no database.

Names come from the KRX universe (official short names) plus a curated alias table (legal and
English names, abbreviations, market slang); a blocker table lists surfaces that must never link
(group names such as 삼성그룹, unlisted affiliates such as SK온, sports teams). One Aho-Corasick
automaton finds every candidate; overlapping candidates are resolved longest-first, so 카카오뱅크
beats 카카오, KT&G beats KT and SK온 (blocked) swallows SK.

A candidate must stand on its own: the character before it may not be a letter or syllable, and
what follows must be a boundary or a Korean particle/suffix (가, 는, 의, 와, 株 …) — a name inside a
longer word does not count. Short names that are also ordinary words (대상, 동양, NEW …) link only
with explicit context: a ticker in parentheses, ㈜, a stock word (주가, 株) or the subject slot at the
start of a title. Securities firms cited as a headline's report source ("…-NH투자증권") and outlets
in bylines ("…머니투데이|2025-11-04 13:22") are not subjects. A ticker in parentheses ("SK(034730)")
links directly.

Each link has a score in [0, 1], a ``salient`` flag and the surface strings found. A company is
salient when the item is about it: it is named in the title (not as a bystander such as "삼성전자
협력사"), or — when the title names no company — the content's first sentence begins with it.
"""

import csv
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick

LINKER_VERSION = "1.0"

PARTICLES = sorted(
    ["은", "는", "이", "가", "을", "를", "의", "와", "과", "도", "로", "으로", "에", "에서", "에게", "만",
     "까지", "부터", "보다", "처럼", "이나", "나", "랑", "이랑", "과의", "와의", "에도", "에는", "으로서",
     "로서", "측", "주", "주가", "株", "發", "向", "표", "發", "쪽", "이며", "이자", "였다", "이다", "엔",
     "와도", "과도", "만의", "뿐", "조차", "마저", "께서", "한테", "보다도", "에선", "에서도", "이라", "라"],
    key=len, reverse=True)
_PARTICLE_SET = frozenset(PARTICLES)
_PARTICLE_MAX = max(map(len, PARTICLES))


def _particle_follows(after: str) -> bool:
    return any(after[:n] in _PARTICLE_SET for n in range(1, _PARTICLE_MAX + 1))


# words after a name that make it a bystander: "삼성전자 협력사 A" is about A
RELATION_WORDS = ("협력사", "협력업체", "납품", "공급사", "출신", "관련주", "테마주", "수혜주", "대장주",
                  "경쟁사", "고객사")
STOCK_CONTEXT = ("주가", "株", "주식", "종목", "(주)", "㈜")
_TICKER = re.compile(r"\(\s*([0-9][0-9A-Z]{5})\s*\)")
_TAGS = re.compile(r"<[^>]{1,200}>")
_BYLINE_TAIL = re.compile(r"[\s…]*[^\s|…]{1,20}\s*\|\s*\d{4}[-.]\d{2}[-.]\d{2}\.?(\s+\d{1,2}:\d{2})?\s*$")
_DATELINE = re.compile(r"^\s*[\[(][^\])]{0,40}(기자|특파원|=)[^\])]{0,20}[\])]\s*")
_REPORT_SOURCE = re.compile(r"\s*[-–—/]\s*$|\s*[-–—]\s*[\w.]*$")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e"


def _is_word(ch: str) -> bool:
    return (ch.isascii() and ch.isalnum()) or _is_hangul(ch)


@dataclass(frozen=True)
class Surface:
    text: str  # as written in the table (for case checks and output)
    code: str | None  # None: a blocker
    kind: str  # official | alias kinds | blocker kinds
    ambiguous: bool = False
    broker: bool = False


@dataclass
class Match:
    code: str
    name: str
    score: float
    salient: bool
    surface: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "score": round(self.score, 3),
                "salient": self.salient, "surface": self.surface}


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    surface: Surface
    in_title: bool
    context: bool  # explicit stock context (ticker, ㈜, 주가 …)


def clean_text(text: str | None) -> str:
    """Strip HTML remnants, entities and bylines; NFC; single spaces."""
    if not text:
        return ""
    text = html.unescape(_TAGS.sub(" ", text))
    text = unicodedata.normalize("NFC", text)
    text = _DATELINE.sub("", text)
    text = _BYLINE_TAIL.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


class Linker:
    def __init__(self, names: Iterable[tuple[str, str]], aliases: Iterable[tuple[str, str, str]] = (),
                 blockers: Iterable[tuple[str, str]] = (), short_overrides: dict[str, str] | None = None,
                 brokers: Iterable[str] = ()):
        """``names``: (code, official name); ``aliases``: (alias, code, kind); ``blockers``:
        (surface, kind); ``short_overrides``: name → safe|ambiguous; ``brokers``: codes of
        securities firms (cited as report sources)."""
        self.names: dict[str, str] = {}
        broker_codes = set(brokers)
        overrides = short_overrides or {}
        surfaces: dict[str, Surface] = {}
        for code, name in names:
            self.names[code] = name
            surfaces[self._key(name)] = Surface(name, code, "official",
                                                self._ambiguous(name, overrides), code in broker_codes)
        for alias, code, kind in aliases:
            if code not in self.names:
                raise ValueError(f"alias {alias!r} points at {code}, which is not in the universe")
            key = self._key(alias)
            if key in surfaces and surfaces[key].kind == "official":
                continue  # an official name wins over an alias spelled the same
            # curated aliases are trusted unless the overrides call one ambiguous
            surfaces[key] = Surface(alias, code, kind, overrides.get(alias) == "ambiguous",
                                    code in broker_codes or "증권" in alias or "證" in alias)
        for surface, kind in blockers:
            surfaces[self._key(surface)] = Surface(surface, None, kind)
        self.surfaces = surfaces
        self._automaton = ahocorasick.Automaton()
        for key, surface in surfaces.items():
            self._automaton.add_word(key, (len(key), surface))
        self._automaton.make_automaton()

    @staticmethod
    def _key(text: str) -> str:
        return unicodedata.normalize("NFC", text).translate(_ASCII_LOWER)

    @staticmethod
    def _ambiguous(name: str, overrides: dict[str, str]) -> bool:
        if name in overrides:
            return overrides[name] == "ambiguous"
        if name.isascii():
            return len(name) <= 2 or (len(name) <= 3 and name.isalpha() and not name.isupper())
        return len(name) <= 2

    # -- candidates -------------------------------------------------------------------------------

    def _candidates(self, text: str, lowered: str, in_title: bool) -> list[_Mention]:
        found = []
        for end, (length, surface) in self._automaton.iter(lowered):
            start = end - length + 1
            stop = end + 1
            written = text[start:stop]
            if surface.text.isascii() and len(surface.text) <= 3 and written != surface.text:
                continue  # short Latin names match in their own case only (SK, not "sk" in "ask")
            if surface.code is not None:  # blockers count wherever they appear
                if start > 0 and _is_word(text[start - 1]):
                    continue  # inside a longer word
                after = text[stop:stop + 6]
                if after and _is_word(after[0]) and not (_is_hangul(after[0]) and _particle_follows(after)):
                    continue  # followed by more of a word that is not a particle
            context = self._has_context(text, start, stop)
            found.append(_Mention(start, stop, surface, in_title, context))
        for ticker in _TICKER.finditer(text):
            code = ticker.group(1)
            if code in self.names:
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

    # -- judgement --------------------------------------------------------------------------------

    @staticmethod
    def _report_source(text: str, mention: _Mention) -> bool:
        """A securities firm named as the source of a report: "…목표가 상향-NH투자증권"."""
        if not mention.surface.broker:
            return False
        before = text[:mention.start].rstrip()
        tail = text[mention.end:].strip()
        cited = before.endswith(("-", "–", "—", "/", "(", "[", "'")) or before.endswith("…")
        return cited and (not tail or tail in {")", "]", "'", "\""} or tail.startswith(("|", "·")))

    @staticmethod
    def _bystander(text: str, mention: _Mention) -> bool:
        after = text[mention.end:mention.end + 8].lstrip()
        return any(after.startswith(word) for word in RELATION_WORDS)

    @staticmethod
    def _subject_slot(text: str, mention: _Mention) -> bool:
        """At the start of a title (after tags such as [특징주]) and followed by a comma-like mark or
        a subject particle: "대상, 3분기 실적" — not "대상으로" or "동양 철학"."""
        head = re.sub(r"^\s*([\[(【][^\])】]{0,10}[\])】]\s*)*", "", text[:mention.start])
        after = text[mention.end:mention.end + 2]
        return head == "" and (after[:1] in {",", "·", "…", ""} or
                               any(after.startswith(p) for p in ("은 ", "는 ", "이 ", "가 ")))

    @staticmethod
    def _sentence_subject(content: str, mentions: list[_Mention]) -> str | None:
        lead = len(content) - len(re.sub(r"^\s*([\[(【][^\])】]{0,12}[\])】]\s*)*", "", content))
        for mention in mentions:
            if not mention.in_title and mention.surface.code and mention.start == lead:
                return mention.surface.code
        return None

    def link(self, title: str | None, content: str | None = None) -> list[Match]:
        title = clean_text(title)
        content = clean_text(content)
        mentions: list[_Mention] = []
        for text, in_title in ((title, True), (content, False)):
            if text:
                mentions += self._resolve(self._candidates(text, text.translate(_ASCII_LOWER), in_title))
        links: dict[str, Match] = {}
        firsts: dict[str, int] = {}
        title_codes: set[str] = set()
        title_names_a_company = False
        order = 0
        for mention in mentions:
            surface = mention.surface
            if surface.code is None:
                continue
            text = title if mention.in_title else content
            if self._report_source(text, mention):
                continue
            if surface.ambiguous and not mention.context and not (
                    mention.in_title and self._subject_slot(text, mention)):
                continue
            bystander = self._bystander(text, mention)
            code = surface.code
            base = {"official": 0.9, "ticker": 0.95}.get(surface.kind, 0.8)
            if surface.kind in {"slang", "abbreviation", "short_form"}:
                base = 0.75
            if surface.ambiguous:
                base -= 0.15
            weight = 1.0 if mention.in_title else (0.8 if mention.start < 120 else 0.6)
            if bystander:
                weight *= 0.6
            score = base * weight
            match = links.get(code)
            if match is None:
                match = links[code] = Match(code, self.names[code], score, False, [])
                firsts[code] = order
                order += 1
            else:
                match.score = max(match.score, score) + 0.03
            written = text[mention.start:mention.end]
            if written not in match.surface:
                match.surface.append(written)
            if mention.in_title:
                title_names_a_company = True
                if not bystander:
                    title_codes.add(code)
        for code, match in links.items():
            match.score = min(1.0, round(match.score, 4))
            match.salient = code in title_codes
        if not title_names_a_company and content:  # then the subject opens the first sentence
            opener = self._sentence_subject(content, mentions)
            if opener is not None and opener in links:
                links[opener].salient = True
        return sorted(links.values(), key=lambda m: (-m.salient, -m.score, firsts[m.code]))


# -- loading the tables ---------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(line for line in handle if line.strip() and not line.startswith("#")))


def load_linker(listing: Path, seeds: Path) -> Linker:
    """A linker over a listing CSV (``code,name,…,industry``) and the seed tables in ``seeds``."""
    universe = _rows(listing)
    return load_linker_from_rows([(r["code"], r["name"], r.get("industry")) for r in universe], seeds)


def load_linker_from_rows(universe: Iterable[tuple[str, str, str | None]], seeds: Path) -> Linker:
    """A linker over (code, name, industry) rows — e.g. ``raw.stocks`` — and the seed tables."""
    universe = list(universe)
    names = [(code, name) for code, name, _ in universe]
    brokers = [code for code, name, industry in universe if "증권" in name or "증권" in (industry or "")]
    aliases = [(r["alias"], r["stock_code"], r["kind"]) for r in _rows(seeds / "stock_aliases.csv")]
    blockers = [(r["surface"], r["kind"]) for r in _rows(seeds / "entity_blockers.csv")]
    overrides = {r["name"]: r["treatment"] for r in _rows(seeds / "short_name_overrides.csv")}
    return Linker(names, aliases, blockers, overrides, brokers)



def tables_version(seeds: Path) -> str:
    """A short hash of the alias tables: matches are recomputed when it or the linker changes."""
    import hashlib

    digest = hashlib.sha256(LINKER_VERSION.encode())
    for name in ("stock_aliases.csv", "entity_blockers.csv", "short_name_overrides.csv"):
        digest.update((seeds / name).read_bytes())
    return f"{LINKER_VERSION}+{digest.hexdigest()[:10]}"
