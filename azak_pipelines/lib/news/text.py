"""Text as Korean news sites serve it → clean Unicode, or a reason it cannot be trusted.

* :func:`decode` turns page bytes into text: a BOM wins; bytes that are valid UTF-8 are UTF-8
  (Korean text in CP949 is practically never valid UTF-8, and pages re-saved as UTF-8 keep their old
  EUC-KR meta tag); then the declared charset (EUC-KR is read as its superset CP949, which strict
  EUC-KR fails on), then CP949. Bytes that fit none raise :class:`UndecodableText` — never a lossy
  "ignore errors" decode.
* :func:`clean` unescapes HTML entities, applies Unicode NFC, drops control characters and
  collapses whitespace.
* :func:`repair` undoes the classic mojibake (UTF-8 read as Latin-1 or as CP949) when that makes
  the text Korean again, and :func:`mojibake_reason` names what is still wrong, so the caller can
  quarantine it instead of storing garbage.
"""

import codecs
import html
import re
import unicodedata

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\ufeff]")
_SPACE = re.compile(r"\s+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Text made only of these (ASCII, Hangul, CJK, the punctuation, arrows and shapes Korean news uses)
# has nothing :func:`mojibake_reason` looks for: every one is assigned, none is U+FFFD, a Latin-1
# letter or private use. Checking that with one regular expression spares the per-character checks
# (an import reads a million titles and summaries). tests/pipelines/news pins the ranges.
_PLAIN_CHARS = ("\t\n\r\x20-\x7e\u00b7\u2010-\u2027\u2030-\u203e\u2190-\u21ff\u25a0-\u25ff"
                "\u3000-\u303f\u3131-\u318e\u4e00-\u9fef\uac00-\ud7a3\uff01-\uff60")
_PLAIN = re.compile(f"[{_PLAIN_CHARS}]*")
# Latin-1 letters that UTF-8 lead bytes of Hangul become when misread (ê, ë, ì, í …)
_LATIN1_MOJIBAKE = re.compile(r"[\u00c2-\u00ef][\u0080-\u00bf]")
# a press/date tail Naver appends to list summaries: "…머니투데이|2025-11-04 13:22"
_PRESS_TAIL = re.compile(r"\s*[^\s|…]{1,20}\s*\|\s*\d{4}[-.]\d{2}[-.]\d{2}\.?\s+\d{1,2}:\d{2}\s*$")
_ALIASES = {"euc-kr": "cp949", "euckr": "cp949", "ks_c_5601-1987": "cp949", "x-windows-949": "cp949",
            "ksc5601": "cp949", "uhc": "cp949", "utf8": "utf-8"}


class UndecodableText(ValueError):
    """Bytes that are not valid in any charset the page could be in."""


def normalise_charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(data: bytes, content_type: str | None = None) -> str | None:
    """The charset a response declares: HTTP header first, then the page's own meta or XML tag."""
    if content_type:
        match = re.search(r"charset=([^;\s]+)", content_type, re.IGNORECASE)
        if match:
            charset = normalise_charset(match.group(1))
            # servers often say ISO-8859-1 by default; it decodes anything, so it proves nothing
            if charset and charset != "latin-1":
                return charset
    head = data[:4096]
    for pattern in (_XML_ENCODING, _CHARSET):
        declared = pattern.search(head)
        if declared:
            return normalise_charset(declared.group(1).decode("ascii", "replace"))
    return None


def decode(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, the charset that decoded it). Raises :class:`UndecodableText`."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8"), "utf-8"
    declared = declared_charset(data, content_type)
    tried = []
    for charset in dict.fromkeys([c for c in ("utf-8", declared, "cp949") if c]):
        tried.append(charset)
        try:
            return data.decode(charset), charset
        except UnicodeDecodeError:
            continue
    raise UndecodableText(f"the bytes are not valid {', '.join(tried)}")


def clean(text: str | None) -> str:
    """Entities unescaped, NFC, no control characters, single spaces, trimmed."""
    if not text:
        return ""
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def strip_press_tail(summary: str) -> str:
    """Remove the "…press|YYYY-MM-DD HH:MM" tail list pages append to summaries."""
    return _PRESS_TAIL.sub("", summary).strip()


def _hangul_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return len(_HANGUL.findall(text)) / len(letters) if letters else 0.0


def repair(text: str) -> str:
    """Undo double encoding when the result is clearly better Korean; otherwise return ``text``."""
    candidates = []
    for wrong in ("latin-1", "cp1252", "cp949"):
        try:
            fixed = text.encode(wrong).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != text:
            candidates.append(fixed)
    best = max(candidates, key=_hangul_share, default=text)
    if best != text and _hangul_share(best) > _hangul_share(text) + 0.3:
        return best
    return text


def mojibake_reason(text: str) -> str | None:
    """Why ``text`` cannot be stored as is, or None when it looks like real text."""
    if _PLAIN.fullmatch(text):
        return None
    return _broken_reason(text)


def _broken_reason(text: str) -> str | None:
    if "\ufffd" in text:
        return "contains U+FFFD replacement characters (bytes were lost in decoding)"
    if len(_LATIN1_MOJIBAKE.findall(text)) >= 2:
        return "looks like UTF-8 read as Latin-1 (mojibake) and could not be repaired"
    letters = [c for c in text if c.isalpha()]
    accented = sum(1 for c in letters if "\u00c0" <= c <= "\u00ff")
    if letters and accented / len(letters) > 0.2 and not _HANGUL.search(text):
        return "looks like Korean text decoded with the wrong charset (Latin letters ì, ë, ê …)"
    odd = sum(1 for c in text if unicodedata.category(c) in {"Co", "Cs", "Cn"})
    if odd:
        return f"contains {odd} unassigned or private-use characters"
    return None


def clean_or_reason(text: str | None) -> tuple[str, str | None]:
    """Repair if needed (before cleaning, which would drop the misread bytes), clean, and say why
    not when the text is still broken."""
    if not text:
        return "", None
    if mojibake_reason(text):
        text = repair(text)
    cleaned = clean(text)
    return cleaned, mojibake_reason(cleaned)
