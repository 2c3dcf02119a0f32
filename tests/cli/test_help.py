"""A CLI that explains itself: descriptions, examples and option help everywhere, `--version`,
bash (and zsh) completion of the real command tree, and `.env` read with the environment winning."""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from azak_cli import dotenv
from azak_cli.commands.completion import script
from azak_cli.errors import UsageError
from azak_cli.help_texts import COMMANDS, subcommands
from azak_cli.main import build_parser

AZAK = str(Path(sys.executable).with_name("azak"))


def every_parser(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for name, sub in subcommands(parser).items():
        found += every_parser(sub, f"{path} {name}".strip())
    return found


def test_every_command_has_a_description_examples_and_help_on_every_argument() -> None:
    problems = []
    for path, parser in every_parser(build_parser()):
        if not parser.description or not (parser.epilog or "").startswith("examples:\n  azak"):
            problems.append(f"azak {path}: no description or examples")
        for action in parser._actions:
            if not action.help and not isinstance(action, argparse._SubParsersAction):
                problems.append(f"azak {path}: {action.option_strings or action.dest} has no help")
    assert not problems, problems
    assert set(COMMANDS) == {path for path, _ in every_parser(build_parser())} - {""}, "stale help texts"


def test_every_example_parses() -> None:
    parser = build_parser()
    examples = [e for _, (_, shown) in COMMANDS.items() for e in shown]
    for example in examples:
        words = shlex.split(example.replace(" < articles.jsonl", ""))
        assert words[0] == "azak"
        try:
            parser.parse_args(words[1:])
        except SystemExit:
            pytest.fail(f"the example does not parse: {example}")


def run_azak(*args: str, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AZAK, *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env=env if env is not None else os.environ.copy())


def test_help_and_version_from_the_installed_command() -> None:
    root = run_azak("--help")
    assert root.returncode == 0
    assert "examples:" in root.stdout and "exit codes:" in root.stdout and "completion" in root.stdout
    backfill = run_azak("backfill", "--help")
    assert "Backfills tab" in backfill.stdout and "azak serve" in backfill.stdout
    assert "azak backfill prices --from" in backfill.stdout and "azak backfill cancel" in backfill.stdout
    prices = run_azak("backfill", "prices", "--help")
    assert "first KST day" in prices.stdout and "--in-process" in prices.stdout and "Ctrl-C" in prices.stdout
    version = run_azak("--version")
    assert version.returncode == 0 and version.stdout.startswith("azak 0.")


def complete(completion: str, line: str, shell: str = "bash") -> list[str]:
    """What Tab offers after ``line`` (the last word is the one being completed)."""
    words = line.split(" ")
    program = (f"{completion}\nCOMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); "
               f"COMP_CWORD={len(words) - 1}; _azak; printf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    done = subprocess.run([shell, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completion_offers_the_subcommands_and_options() -> None:
    completion = run_azak("completion", "bash").stdout
    names = set(subcommands(build_parser()))
    assert set(complete(completion, "azak ")) >= names | {"--version"}
    assert complete(completion, "azak imp") == ["import"]
    assert sorted(complete(completion, "azak import p")) == ["predictions", "prices"]
    assert sorted(complete(completion, "azak backfill prices --f")) == ["--files", "--from"]
    assert set(complete(completion, "azak backfill ")) >= {"cancel", "prices", "status"}
    assert "migrate" in complete(completion, "azak db ")


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (the script is bash's, checked above)")
def test_zsh_completion_offers_the_subcommands() -> None:
    completion = script("zsh", build_parser())
    program = f"autoload -U compinit && compinit -u\n{completion}"
    assert "import" in complete(program, "azak imp", shell="zsh")


def test_a_dotenv_file_fills_what_the_environment_leaves_unset(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# comment\nexport AZAK_HOME='/srv/azak'\nAZAK_EXECUTOR=celery  # inline\n"
                    "AZAK_PG_PORT=\nAZAK_API_PORT=\"8123\"\n", encoding="utf-8")
    environ = {"AZAK_EXECUTOR": "in_process", "AZAK_API_PORT": "  "}
    applied = dotenv.load(path, environ)
    assert environ == {"AZAK_EXECUTOR": "in_process", "AZAK_HOME": "/srv/azak", "AZAK_API_PORT": "8123"}
    assert applied == ["AZAK_HOME", "AZAK_API_PORT"]  # the environment won; the empty line set nothing
    path.write_text("AZAK_HOME=/x\nthis is not a setting\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"\.env:2: not NAME=value"):
        dotenv.load(path, {})


def test_azak_reads_dotenv_in_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AZAK_DATABASE_URL=postgresql://dotenv:pw@127.0.0.1:5999/from_dotenv\n",
                                   encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "AZAK_DATABASE_URL"}
    from_file = run_azak("db", "url", cwd=tmp_path, env=env)
    assert from_file.returncode == 0, from_file.stderr
    assert "from_dotenv" in from_file.stdout and "pw" not in from_file.stdout
    env["AZAK_DATABASE_URL"] = "postgresql://env@127.0.0.1:5998/from_environment"
    assert "from_environment" in run_azak("db", "url", cwd=tmp_path, env=env).stdout
    env["AZAK_DATABASE_URL"] = ""  # empty counts as unset: the file's value applies
    assert "from_dotenv" in run_azak("db", "url", cwd=tmp_path, env=env).stdout
    as_json = run_azak("db", "url", "--json", cwd=tmp_path, env=env)
    assert json.loads(as_json.stdout) == {"url": "postgresql://dotenv:***@127.0.0.1:5999/from_dotenv"}
    status = run_azak("db", "status", "--json", cwd=tmp_path, env=env | {"AZAK_HOME": str(tmp_path / "home")})
    assert status.returncode == 3 and json.loads(status.stdout) == {"embedded": str(tmp_path / "home" / "pg" / "data"),
                                                                   "running": False}
    (tmp_path / ".env").write_text("AZAK_DATABASE_URL postgresql://typo\n", encoding="utf-8")
    broken = run_azak("db", "url", cwd=tmp_path, env=env)
    assert broken.returncode == 2 and ".env:1" in broken.stderr
