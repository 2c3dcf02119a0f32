"""What `azak <command> --help` says beyond the usage line: a description and examples per command.

Kept apart from the command modules so the help reads as one text and ``tests/cli/test_help.py`` can
check that every (sub)command has both and that every example parses. docs/cli.md is the long form.
"""

import argparse

EXIT_CODES = """exit codes:
  0    success
  1    a failure: a run failed, a model failed (`azak predict`), input lines were skipped (`azak match`,
       `azak similar`)
  2    a usage or configuration error (bad arguments, a bad AZAK_* value or .env line, a database that
       cannot be used, no Dagit or daemon for `azak backfill`)
  3    `azak db status`, `azak milvus status`: the embedded server is not running
  130  interrupted (Ctrl-C)"""

ROOT = (
    "Azak: a Dagster data platform and a thin API for the Korean stock market. Settings are AZAK_* "
    "environment variables (docs/configuration.md); a .env file in the current folder is read when present "
    "(the environment wins; empty values count as unset).",
    ("azak demo", "azak serve", "azak import prices data/*.csv", "azak completion bash"),
)

# command path -> (description, examples)
COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "demo": ("Set up the embedded PostgreSQL and Milvus, materialize the bundled sample window as real Dagster "
             "runs, print a summary, then serve Dagit, the daemon and the API until Ctrl-C. Finished steps are "
             "skipped on a re-run unless the code or the data changed.",
             ("azak demo", "azak demo --no-serve", "azak demo --refresh --no-serve")),
    "serve": ("Serve without materializing: Dagit and the daemon, the API, the Telegram bot, or all of them "
              "(the default).", ("azak serve", "azak serve api", "azak serve telegram")),
    "import": ("Load files into the warehouse as runs of the assets that own them.",
               ("azak import prices 005930.csv", "azak import news news.jsonl")),
    "import prices": ("Load daily price CSVs (English or pykrx Korean headers) into raw.daily_prices as a run "
                      "of the asset; bad rows are quarantined with file, line and reason.",
                      ("azak import prices data/*.csv", "azak import prices 005930.csv --format pykrx --basis raw",
                       "azak import prices bars.csv --code 005930")),
    "import news": ("Load news as JSON Lines (title, summary or content, published_at with offset, source, url) "
                    "through raw/imported_news and news_articles.", ("azak import news news.jsonl",)),
    "import predictions": ("Load another system's predictions (JSON Lines) into computed.external_predictions; "
                           "the model is registered with provider `external`.",
                           ("azak import predictions theirs.jsonl",)),
    "evaluate": ("Run the evaluation (building what it reads on an empty warehouse) and print the leaderboard.",
                 ("azak evaluate", "azak evaluate --model baseline --from 2025-01-02 --to 2025-06-30 --json")),
    "backfill": ("Dagster backfills of daily prices: submitted through Dagit's GraphQL API, listed in Dagit's "
                 "Backfills tab, run by the daemon through the run queue and its limits, followed here with a "
                 "progress bar. Needs Dagit and its daemon (`azak serve`): without them it refuses (exit 2) "
                 "rather than start servers that would die with this terminal.",
                 ("azak backfill prices --from 2024-01-02 --to 2024-12-30",
                  "azak backfill status", "azak backfill cancel ktbqlhzn")),
    "backfill prices": ("Submit a backfill of raw/daily_prices over --from … --to (from KIS, or from --files) and "
                        "follow it: partitions done of the total, rate, time left, the runs' states. Ctrl-C "
                        "detaches without cancelling and prints how to cancel; --detach prints the id and "
                        "returns at once. Exit 0 when it succeeded, 1 when it failed or was cancelled. "
                        "--in-process instead runs one run in this terminal, without Dagit (and --shards splits "
                        "that run into steps for Celery workers): it bypasses the queue and dies with the "
                        "terminal.",
                        ("azak backfill prices --from 2024-01-02 --to 2024-12-30",
                         "azak backfill prices --from 2015-01-02 --to 2025-09-26 --codes 005930 000660 --detach",
                         "azak backfill prices --from 2016-01-04 --to 2025-09-26 --files data/*.csv --json",
                         "azak backfill prices --from 2024-01-02 --to 2024-12-30 --in-process --shards 4")),
    "backfill status": ("One backfill's state (partitions done, in progress, failed; its runs), or the most recent "
                        "backfills.", ("azak backfill status", "azak backfill status ktbqlhzn --json")),
    "backfill cancel": ("Cancel a backfill: Dagster cancels its queued and running runs; the partitions written "
                        "stay.", ("azak backfill cancel ktbqlhzn",)),
    "housekeeping": ("Run retention_job now: drop (or list, with --dry-run) the intraday partitions past their "
                     "retention window, with rows and bytes freed.",
                     ("azak housekeeping --dry-run", "azak housekeeping --as-of 2025-09-30")),
    "marts": ("Build every dbt model in one run; incremental marts resume where their inputs changed.",
              ("azak marts", "azak marts --full-refresh")),
    "worker": ("A Celery worker (dagster-celery) for runs launched with AZAK_EXECUTOR=celery; start one per "
               "core or host.", ("azak worker", "azak worker --name gpu-1")),
    "match": ("Link JSON Lines articles to listed companies as of their publication day; JSON Lines out.",
              ("azak match articles.jsonl", "azak match - --explain < articles.jsonl")),
    "simulate": ("Replay days of unattended operation on a simulated clock: the daemon's own schedules, sensors "
                 "and automation conditions, tick by tick (5 simulated minutes), every requested run executed; "
                 "prints a line per simulated hour and a ledger per KST day, exit 1 when an expectation failed; "
                 "--fault X injects a fault into the replayed sources, and the ledger must show its behaviour; "
                 "--run-cost S advances the simulated clock by S seconds per run instead of its wall duration.",
                 ("azak simulate --from 2025-06-06 --to 2025-06-06",
                  "azak simulate --from 2025-06-09 --to 2025-06-09 --hours 0.5 --run-cost 10",
                  "azak simulate --from 2025-06-09 --to 2025-06-09 --hours 2 --fault source-down:naver",
                  "azak simulate --from 2025-05-29 --to 2025-06-09 --json")),
    "docs": ("Generated documentation, written from the code location Dagit loads.",
             ("azak docs dictionary",)),
    "docs dictionary": ("Write the data dictionary (every table's columns, types, descriptions and lineage, from the "
                        "table specs and the dbt models' .yml) to docs/dictionary.md; --check exits 1 when the file "
                        "is not current.",
                        ("azak docs dictionary", "azak docs dictionary --check")),
    "similar": ("Each JSON Lines input's k nearest other inputs, with the configured embedder, by an exact "
                "search in memory (no Milvus needed).", ("azak similar articles.jsonl --k 5",)),
    "milvus": ("Manage the embedded Milvus (milvus-lite run as a server, data under AZAK_HOME).",
               ("azak milvus start", "azak milvus status")),
    "users": ("Manage the API's users.",
              ("azak users create --email a@example.com --password 'a-long-secret' --admin", "azak users list")),
    "users list": ("List the API's users, oldest first: id, e-mail, role, whether active, expiry and last login "
                   "(never a password hash).", ("azak users list", "azak users list --json")),
    "users create": ("Create a user who can log in to the API (or, with --reset-password, set a new password).",
                     ("azak users create --email a@example.com --password 'a-long-secret'",
                      "azak users create --email a@example.com --password 'another-long-one' --reset-password")),
    "models": ("The model registry (app.models): which models predict, with which provider and parameters.",
               ("azak models list", "azak models set momentum --inactive")),
    "models add": ("Register a model; its key is read from an allowed variable (AZAK_LLM_KEY_VARIABLES), never "
                   "stored. With --backfill the daemon runs model_onboarding_job: its predictions and reports over "
                   "past days within --budget, then the evaluation (and the A/B result with --compare-with).",
                   ("azak models add --name gpt --provider openai --model gpt-4o-mini",
                    "azak models add --name local --provider openai-compatible --model qwen "
                    "--base-url http://127.0.0.1:8001/v1",
                    "azak models add --name gpt --provider openai --model gpt-4o-mini --backfill --budget 2 "
                    "--compare-with baseline")),
    "models pair": ("Make two models the active A/B pair (the previous pair is kept as history); with --backfill "
                    "the daemon backfills both over past days, then computes the pair's result.",
                    ("azak models pair baseline momentum",
                     "azak models pair gpt baseline --backfill --from 2025-05-19 --to 2025-06-17 --budget 2")),
    "models list": ("List the registered models and whether each is active.", ("azak models list",)),
    "models set": ("Activate or deactivate a model.", ("azak models set momentum --inactive",)),
    "stocks": ("The watch-list: the stocks whose prices, news, predictions and reports are collected.",
               ("azak stocks add 000660",)),
    "stocks add": ("Add a stock to the watch-list. The daemon then onboards it in one run (stock_onboarding_job): "
                   "two years of daily prices (AZAK_ONBOARDING_HISTORY_DAYS), its links over the stored articles, "
                   "its indicators and a first report by every active model.",
                   ("azak stocks add 000660", "azak stocks add 0088M0 --name 새상장 --market KOSDAQ")),
    "predict": ("Run the stock report for today and print it as JSON; exit 1 when a model failed.",
                ("azak predict --stock 005930", "azak predict --stock 005930 --model baseline")),
    "notify": ("Write a KST day's Telegram messages to the outbox as a run; --send delivers what is due.",
               ("azak notify", "azak notify --day 2025-09-26 --send")),
    "telegram": ("Telegram subscribers and the outbox.",
                 ("azak telegram subscribe --chat 123456 --stock 005930", "azak telegram outbox")),
    "telegram subscribe": ("Subscribe a chat to stocks (by code or name).",
                           ("azak telegram subscribe --chat 123456 --stock 005930",
                            "azak telegram subscribe --chat 123456 --stock 삼성전자")),
    "telegram link": ("Link a chat to an account: /report answers it while the account is active.",
                      ("azak telegram link --chat 123456 --user a@example.com",)),
    "telegram outbox": ("The outbox, newest first: status, attempts, message id, error.",
                        ("azak telegram outbox", "azak telegram outbox --day 2025-09-26 --limit 20")),
    "dev": ("Developer tools.", ("azak dev generate --out /tmp/market --years 1",)),
    "dev generate": ("Write a seeded synthetic whole-market dataset (daily and minute bars, index levels, "
                     "Korean template news); --load imports it. Never committed.",
                     ("azak dev generate --out /tmp/market --years 1 --stocks 50",
                      "azak dev generate --out /tmp/market --stocks all --years 10 --load")),
    "db": ("The PostgreSQL in use: print its URL, manage the embedded server, apply the app migrations.",
           ("azak db url", "azak db status", "azak db migrate")),
    "completion": ("Print a shell completion script. Install it once:\n"
                   "  bash: azak completion bash > ~/.local/share/bash-completion/completions/azak\n"
                   "  zsh:  azak completion zsh > ~/.zfunc/_azak  (with fpath+=(~/.zfunc) before compinit)",
                   ("azak completion bash", "azak completion zsh")),
}


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser's subcommands by name (empty for a leaf command)."""
    return {name: sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name, sub in action.choices.items()}


def _epilog(examples: tuple[str, ...], extra: str = "") -> str:
    return "examples:\n" + "\n".join(f"  {e}" for e in examples) + (f"\n\n{extra}" if extra else "")


def apply(parser: argparse.ArgumentParser, path: str = "") -> None:
    """Give ``parser`` and every subcommand under it its description and examples."""
    description, examples = COMMANDS[path] if path else ROOT
    parser.description = description
    parser.epilog = _epilog(examples, EXIT_CODES if not path else "")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for name, sub in subcommands(parser).items():
        apply(sub, f"{path} {name}".strip())
