"""`make lint`'s duplicate-code scan (scripts/duplicate_code.py) with the real pylint on small trees."""

import importlib.util
import textwrap
from pathlib import Path

from tests.conftest import PROJECT_ROOT

SPEC = importlib.util.spec_from_file_location("duplicate_code", PROJECT_ROOT / "scripts" / "duplicate_code.py")
assert SPEC is not None and SPEC.loader is not None
duplicate_code = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(duplicate_code)

LOGIC = """
def {name}(lines):
    total = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        value = int(line.split(",")[number % 2])
        total += value * number
    return total
"""
FIELDS = """
from dataclasses import dataclass

@dataclass
class {name}:
    alpha: int
    bravo: str | None
    charlie: list[str]
    echo: bytes
    foxtrot: dict[str, int]
    delta: float = 0.0
    golf: bool = False
"""


def _tree(tmp_path: Path, template: str) -> list[str]:
    for name in ("first", "second"):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(template.format(name=name.title())))
    return ["first.py", "second.py"]


def test_a_copied_piece_of_logic_fails_the_scan(tmp_path, capsys):
    assert duplicate_code.main(_tree(tmp_path, LOGIC), tmp_path) == 1
    out = capsys.readouterr().out
    assert "duplicate code: first:[" in out and "1 copies of 6 lines or more" in out


def test_the_same_fields_declared_twice_are_listed_but_pass(tmp_path, capsys):
    assert duplicate_code.main(_tree(tmp_path, FIELDS), tmp_path) == 0
    out = capsys.readouterr().out
    assert "field declarations, allowed: first:[" in out and "no duplicate code" in out
