"""The duplicate-code scan of `make lint` (`python scripts/duplicate_code.py [paths]`): pylint's
similarity checker (six lines or more) over the packages, the tests, the benchmarks and the
scripts; exit status 1 when it finds a copy.

One kind of repetition is allowed, and listed: runs that only declare fields (``name: type``), such
as a table's columns as the pipelines' dataclass, the API's row and the API's response schema. The
API and the pipelines may not import each other, so each side declares what it reads; a shared
piece of logic has no such excuse.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYLINT = Path(sys.executable).with_name("pylint")
PATHS = ["azak_core", "azak_pipelines", "azak_api", "azak_cli", "tests", "benchmarks", "scripts"]
MIN_LINES = 6
MESSAGE = re.compile(r"^\S+:\d+:\d+: R0801: ", re.M)
FIELD = re.compile(r"^\s*[A-Za-z_]\w*: [^=]+( = .+)?$")


def findings(output: str) -> list[tuple[list[str], list[str]]]:
    """Each similarity pylint reports: the places (``==module:[start:end]``) and the shared lines."""
    found = []
    for block in MESSAGE.split(output)[1:]:
        lines = block.splitlines()[1:]
        places = [line for line in lines if line.startswith("==")]
        code = [line.removesuffix(" (duplicate-code)") for line in lines[len(places):]]
        code = [line for line in code if line.strip()]  # pylint may end a block with a blank line
        code = [line for line in code if not line.startswith(("---", "Your code has been rated", "*************"))]
        found.append((places, code))
    return found


def only_fields(code: list[str]) -> bool:
    return bool(code) and all(FIELD.match(line) for line in code)


def main(paths: list[str] = PATHS, root: Path = ROOT) -> int:
    result = subprocess.run(
        [str(PYLINT), "--disable=all", "--enable=duplicate-code", f"--min-similarity-lines={MIN_LINES}",
         "--score=n", *paths], cwd=root, capture_output=True, text=True)
    if result.returncode & 1 or result.returncode & 32:  # fatal message or usage error
        sys.stderr.write(result.stdout + result.stderr)
        return 1
    copies = [(places, code) for places, code in findings(result.stdout) if not only_fields(code)]
    for places, code in findings(result.stdout):
        if only_fields(code):
            print(f"field declarations, allowed: {' ~ '.join(p.removeprefix('==') for p in places)}")
    for places, code in copies:
        print(f"duplicate code: {' ~ '.join(p.removeprefix('==') for p in places)}")
        print("\n".join(code))
    print(f"{len(copies)} copies of {MIN_LINES} lines or more" if copies else "no duplicate code")
    return 1 if copies else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or PATHS))
