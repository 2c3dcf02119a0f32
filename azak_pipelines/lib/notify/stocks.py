"""Which stock a user means: a code, an official name or any alias the linker knows (삼전 → 005930),
and close matches when the name is unknown."""

import difflib
from dataclasses import dataclass

from azak_pipelines.lib.matching.linker import Linker, surface_key


@dataclass(frozen=True)
class Stock:
    code: str
    name: str

    def label(self) -> str:
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class Resolution:
    stock: Stock | None
    suggestions: tuple[Stock, ...] = ()


class StockResolver:
    """Resolves what a user typed through the same names and aliases the news linker uses."""

    def __init__(self, linker: Linker):
        self.names = dict(linker.names)
        # surface (lower-cased, NFC) → code; blockers (group names, unlisted affiliates) excluded
        self.surfaces = {key: s.code for key, s in linker.surfaces.items() if s.code is not None}
        # official names come first among suggestions (aliases and truncations are shorter)
        self.official = {surface_key(name) for name in self.names.values()}

    def stock(self, code: str) -> Stock:
        return Stock(code, self.names.get(code, code))

    def resolve(self, text: str, suggestions: int = 5) -> Resolution:
        query = " ".join(text.split())
        if not query:
            return Resolution(None)
        if query.upper() in self.names:
            return Resolution(self.stock(query.upper()))
        key = surface_key(query)
        code = self.surfaces.get(key) or self.surfaces.get(key.replace(" ", ""))
        if code is not None:
            return Resolution(self.stock(code))
        # names containing what was typed ("삼성" → 삼성전자, 삼성SDI…, shortest first), then similar
        # spellings ("삼성전ㅈ" → 삼성전자), then known names inside what was typed
        found = [self.surfaces[k] for k in sorted((k for k in self.surfaces if key in k),
                                                  key=lambda k: (k not in self.official, len(k)))]
        found += [self.surfaces[k] for k in
                  difflib.get_close_matches(key, list(self.surfaces), n=suggestions * 2, cutoff=0.5)]
        found += [self.surfaces[k] for k in sorted((k for k in self.surfaces if len(k) >= 2 and k in key), key=len)]
        unique = list(dict.fromkeys(found))[:suggestions]
        return Resolution(None, tuple(self.stock(c) for c in unique))
