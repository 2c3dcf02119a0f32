"""Finding the JSON answer in a model's text: the whole text, else the last fenced block, else the
last balanced top-level object."""

import json
import re
from typing import Any

FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


class InvalidJson(ValueError):
    """No JSON object could be read from the answer."""


def _objects(text: str) -> list[str]:
    """Balanced top-level ``{…}`` spans, strings and escapes respected."""
    spans, depth, start, in_string, escaped = [], 0, -1, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"' and depth > 0:
            in_string = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start:i + 1])
    return spans


def last_json_object(text: str) -> dict[str, Any]:
    """The answer's JSON object; :class:`InvalidJson` says why there is none."""
    stripped = text.strip()
    if not stripped:
        raise InvalidJson("the answer is empty")
    try:
        value = json.loads(stripped)
        if isinstance(value, dict):
            return value
    except json.JSONDecodeError:
        pass
    fenced, bare = FENCE.findall(stripped), _objects(stripped)
    # fenced blocks first, then bare objects; within each, the last one that parses wins
    for group in (fenced, bare):
        for candidate in reversed(group):
            try:
                value = json.loads(candidate.strip())
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    snippet = stripped[:120].replace("\n", " ")
    detail = "no JSON object parses" if fenced or bare else "no JSON object found"
    raise InvalidJson(f"{detail} in the answer (starts {snippet!r})")
