"""`azak dev generate`: a synthetic whole-market dataset (seeded), optionally loaded."""

import argparse
from pathlib import Path
from typing import Any

from azak_cli.errors import UsageError
from azak_cli.runtime import environment
from azak_core.redact import mask_url


def stock_count(text: str) -> int | None:
    """An ``argparse`` type: a positive number of listings, or ``all`` (None)."""
    if text == "all":
        return None
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"--stocks must be a positive number or 'all', got {text!r}")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dev", help="developer tools")
    actions = parser.add_subparsers(dest="action", required=True)
    generate = actions.add_parser(
        "generate", help="write a synthetic whole-market dataset (seeded): daily bars with splits, "
                         "halts and delistings, KOSPI/KOSDAQ levels, minute bars, news naming listed "
                         "companies; --load imports it")
    generate.add_argument("--out", required=True, help="directory for the files (created)")
    generate.add_argument("--stocks", type=stock_count, default=None,
                          help="the N largest listings, or all (default: all ~2,900)")
    generate.add_argument("--years", type=float, default=10,
                          help="years of daily bars up to 2025-09-26 (0.25: a quarter)")
    generate.add_argument("--minute-stocks", type=int, default=50, help="listings with minute bars")
    generate.add_argument("--minute-days", type=int, default=245,
                          help="the window's last N sessions of minute bars (default: about a year)")
    generate.add_argument("--articles", type=int, default=1_000_000, help="news articles")
    generate.add_argument("--seed", type=int, default=16, help="the same seed writes the same files")
    generate.add_argument("--load", action="store_true",
                          help="then import everything into AZAK_DATABASE_URL: prices and news through "
                               "`azak import`, minute bars and index levels through the warehouse writer")
    generate.set_defaults(func=run)


def checked_out(args: argparse.Namespace) -> Path:
    """The output directory, after checking the options that bound the dataset."""
    if not 0.02 <= args.years <= 30:
        raise UsageError(f"--years must be between 0.02 (a week) and 30, got {args.years}")
    if min(args.minute_stocks, args.minute_days, args.articles) < 0:
        raise UsageError("--minute-stocks, --minute-days and --articles must not be negative")
    out = Path(args.out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    return out


def say_generated(generated: Any, out: Path) -> None:
    spent = sum(generated.seconds.values())
    rows = generated.daily_rows + generated.raw_rows + generated.minute_rows
    print(f"generated in {spent:.1f} s under {out}: {generated.daily_rows:,} daily bars "
          f"({len(generated.adjusted_files):,} listings, {generated.halts:,} halt days, "
          f"{len(generated.splits)} splits with {generated.raw_rows:,} raw-basis bars), "
          f"{generated.minute_rows:,} minute bars ({len(generated.minute_files)} stocks), "
          f"{generated.index_rows:,} index levels (KOSPI, KOSDAQ), {len(generated.delisted)} delisted listings, "
          f"{generated.articles:,} articles in {len(generated.news_files)} file(s); "
          f"{rows / max(spent, 1e-9):,.0f} rows/s")


def say_loaded(generated: Any, seconds: dict[str, float], url: str) -> None:
    daily = seconds["daily_adjusted"] + seconds["daily_raw"]
    print(f"loaded into {mask_url(url)}: daily bars in {daily:.1f} s "
          f"({(generated.daily_rows + generated.raw_rows) / max(daily, 1e-9):,.0f} rows/s), "
          f"minute bars in {seconds['minute']:.1f} s, index levels in {seconds['index']:.1f} s, "
          f"news in {seconds['news']:.1f} s "
          f"({generated.articles / max(seconds['news'], 1e-9):,.0f} articles/s)")


def run(args: argparse.Namespace) -> int:
    from azak_cli.dev import generate

    out = checked_out(args)
    options = generate.ScaleOptions(args.stocks, args.years, args.minute_stocks, args.minute_days,
                                    args.articles, args.seed)
    generated = generate.generate(options, out)
    say_generated(generated, out)
    if not args.load:
        return 0
    with environment.session(apply=True) as runtime:
        say_loaded(generated, generate.load(runtime, generated), runtime.database.render())
    return 0
