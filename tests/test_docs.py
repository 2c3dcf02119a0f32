"""The docs stay true: the site builds with warnings as errors, every internal link and anchor
resolves, every command of the CLI reference exists with the options it shows, every ``AZAK_*``
variable the code names is in the registry (and every registered one is read), the configuration
page is the registry's, and the figures the pages quote are the ones the tests assert."""

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

from azak_cli.main import build_parser
from azak_core import settings_registry
from tests.cli.test_demo import README_AB_FIGURES
from tests.conftest import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
SHIPPED = ("azak_core", "azak_pipelines", "azak_api", "azak_cli")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
VARIABLE = re.compile(r"AZAK_[A-Z0-9_]*[A-Z0-9]")


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                          env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    assert (tmp_path / "site" / "runbook" / "index.html").exists()


def anchors(page: Path) -> set[str]:
    """The ids mkdocs gives a page's headings (the toc extension's slugs, duplicates numbered)."""
    seen: dict[str, int] = {}
    ids = set()
    in_fence = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if in_fence or not line.startswith("#"):
            continue
        text = re.sub(r"`([^`]*)`", r"\1", line.lstrip("#").strip())
        slug = slugify(text, "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        ids.add(slug if n == 0 else f"{slug}_{n}")
    return ids


def internal_links(page: Path) -> list[tuple[str, str]]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    found = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        found.append((path, anchor))
    return found


@pytest.mark.parametrize("page", [*pages(), PROJECT_ROOT / "README.md"], ids=lambda p: p.name)
def test_every_internal_link_and_anchor_resolves(page: Path) -> None:
    problems = []
    for path, anchor in internal_links(page):
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            problems.append(f"{path}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            problems.append(f"{path}#{anchor}: no such heading in {target.name}")
    assert not problems, f"{page.name}: " + "; ".join(problems)


def test_the_readme_is_a_front_page() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 150
    assert "make demo" in readme and "make test" in readme


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return {name: sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name, sub in action.choices.items()}


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def reference_commands() -> list[str]:
    """Every `azak …` command in the first column of the CLI reference's tables."""
    commands = []
    for line in (DOCS / "cli.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `azak"):
            first_cell = line.split(" | ")[0]
            commands += [c for c in re.findall(r"`(azak [^`]*)`", first_cell)]
    return commands


def command_problem(command: str, root: argparse.ArgumentParser) -> str | None:
    """Why ``command`` as the reference writes it is not what the parser accepts, or None."""
    words = command.split()[1:]
    parser = root
    for word in words:
        subs = subcommands(parser)
        if word.split("|")[0] in subs and all(w in subs for w in word.split("|")):
            parser = subs[word.split("|")[0]]
            continue
        break
    if parser is root:
        return "no such command"
    shown = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", command))
    missing = sorted(shown - options(parser))
    return f"options not accepted: {', '.join(missing)}" if missing else None


def test_every_command_of_the_cli_reference_exists_with_the_options_shown() -> None:
    root = build_parser()
    commands = reference_commands()
    assert len(commands) >= len(subcommands(root)), "the CLI reference misses commands"
    problems = {c: p for c in commands if (p := command_problem(c, root))}
    assert not problems, problems
    documented = {c.split()[1] for c in commands}
    assert set(subcommands(root)) <= documented, set(subcommands(root)) - documented


def shipped_files() -> list[Path]:
    return [p for package in SHIPPED for p in (PROJECT_ROOT / package).rglob("*.py")]


def names_in_code() -> set[str]:
    """Every ``AZAK_*`` variable the shipped code names as a string (reads, and what it sets for its
    children), and those dbt's profile reads."""
    names = set()
    for path in shipped_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and VARIABLE.fullmatch(node.value):
                names.add(node.value)
    profile = (PROJECT_ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    names |= set(re.findall(r"env_var\('(AZAK_[A-Z0-9_]+)'", profile))
    return names


def names_read_by_tests() -> set[str]:
    reads = re.compile(r"""environ(?:\.get\(|\[)["'](AZAK_[A-Z0-9_]+)["'](?!\]\s*=)""")
    return {name for folder in ("tests", "benchmarks") for path in (PROJECT_ROOT / folder).rglob("*.py")
            for name in reads.findall(path.read_text(encoding="utf-8"))}


def test_every_variable_the_code_names_is_registered() -> None:
    unregistered = (names_in_code() | names_read_by_tests()) - set(settings_registry.REGISTRY)
    assert not unregistered, f"add to azak_core/settings_registry.py: {sorted(unregistered)}"


def test_every_registered_variable_is_read() -> None:
    unread = set(settings_registry.REGISTRY) - names_in_code() - names_read_by_tests()
    assert not unread, f"registered but read nowhere (remove them): {sorted(unread)}"


def test_the_code_reads_variables_through_the_registry() -> None:
    """No ``os.environ.get("AZAK_…")``, ``os.getenv`` or ``os.environ["AZAK_…"]`` read in shipped code."""
    direct = []
    for path in shipped_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args \
                    and node.func.attr in {"get", "getenv"} and isinstance(node.args[0], ast.Constant) \
                    and VARIABLE.fullmatch(str(node.args[0].value)):
                direct.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                    and isinstance(node.slice, ast.Constant) and VARIABLE.fullmatch(str(node.slice.value)):
                direct.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert not direct, f"read these through azak_core.settings_registry.read: {direct}"


def test_an_unregistered_name_is_an_error_and_empty_counts_as_unset() -> None:
    with pytest.raises(settings_registry.UnregisteredVariable, match="AZAK_NOT_A_SETTING"):
        settings_registry.read("AZAK_NOT_A_SETTING", {})
    assert settings_registry.read("AZAK_HOME", {"AZAK_HOME": "  "}) is None
    assert settings_registry.read("AZAK_HOME", {"AZAK_HOME": " /srv/azak "}) == "/srv/azak"
    assert settings_registry.read_or("AZAK_EXECUTOR", "in_process", {}) == "in_process"


def test_the_configuration_page_is_the_registry() -> None:
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert page == settings_registry.markdown(), (
        "docs/configuration.md is stale: python -m azak_core.settings_registry > docs/configuration.md")
    for variable in settings_registry.VARIABLES:
        assert variable.meaning and variable.default, variable.name
        assert set(variable.components) <= set(settings_registry.COMPONENTS), variable.name


def quoted(value: float) -> str:
    """A figure as the pages write it: at least three decimals, a typographic minus."""
    text = f"{abs(value):.3f}" if round(abs(value), 3) == abs(value) else repr(abs(value))
    return ("−" if value < 0 else "") + text


def test_the_demo_ab_figures_on_the_models_page_are_the_asserted_ones() -> None:
    """tests/cli/test_demo.py asserts these figures of the demo's A/B; the page must quote them."""
    text = (DOCS / "models.md").read_text(encoding="utf-8")
    numbers = [v for key in ("hit", "signed_return", "brier") for v in README_AB_FIGURES[key]
               if isinstance(v, float | int)]
    neutral = README_AB_FIGURES["neutral calls"]
    assert isinstance(neutral, dict)
    numbers += [n for pair in neutral.values() for n in pair]
    missing = [v for v in numbers
               if (f"{v:,}" if isinstance(v, int) else quoted(v)) not in text]
    assert not missing, missing


def test_the_exit_codes_of_the_cli_reference_are_those_of_azak_help() -> None:
    from azak_cli.help_texts import EXIT_CODES

    in_help = re.findall(r"^  (\d+) ", EXIT_CODES, flags=re.M)
    in_page = re.findall(r"^\| (\d+) \|", (DOCS / "cli.md").read_text(encoding="utf-8"), flags=re.M)
    assert in_help == in_page and "0" in in_help and "130" in in_help
