"""`azak simulate`'s exit code, through the real command parser: 2 for a bad argument (before any
simulation starts), else 0 if and only if every expectation held and every fault showed its
behaviour (no simulation needed: the decision is read off a ledger)."""

import pytest

from azak_cli.commands import simulate as command
from azak_cli.main import build_parser, main
from azak_cli.simulate.engine import EVERY_TICK, INTRADAY_EVERY
from azak_cli.simulate.ledger import MEASURED, Ledger, intraday_note, time_note
from azak_cli.simulate.main import exit_code

WINDOW = ["simulate", "--from", "2025-06-09", "--to", "2025-06-09"]


def test_a_bad_argument_exits_2_before_any_simulation(capsys):
    # no database, no Milvus, no simulation: each is refused by the parser or the command first
    assert main([*WINDOW, "--fault", "source-down:dart"]) == 2  # a fault not built
    assert "unknown fault source-down:dart: the faults built are" in capsys.readouterr().err
    assert main(["simulate", "--from", "2025-06-09", "--to", "2025-06-08"]) == 2
    assert "--to 2025-06-08 is before --from 2025-06-09" in capsys.readouterr().err
    for cost in ("0", "-5", "300", "ten", "nan"):  # argparse exits 2 itself
        with pytest.raises(SystemExit) as exited:
            main([*WINDOW, "--run-cost", cost])
        assert exited.value.code == 2, cost
        assert "--run-cost" in capsys.readouterr().err
    for every in ("0", "7", "25", "120", "half"):  # not a multiple of the tick that divides the hour
        with pytest.raises(SystemExit) as exited:
            main([*WINDOW, "--intraday-every", every])
        assert exited.value.code == 2 and "--intraday-every" in capsys.readouterr().err, every


def test_the_exit_code_is_0_only_when_every_expectation_held_and_every_fault_was_shown():
    args = build_parser().parse_args([*WINDOW, "--fault", "kill-run", "--run-cost", "10", "--json"])
    assert args.func is command.run and args.run_cost == 10.0 and args.faults == ["kill-run"]
    assert build_parser().parse_args(WINDOW).run_cost is None  # measured durations by default
    shown = {"behaviour": "reaped", "shown": True, "missing": [], "observed": {}}
    assert exit_code(Ledger()) == 0
    assert exit_code(Ledger(faults={"kill-run": shown})) == 0
    assert exit_code(Ledger(failed=["run failed at 2025-06-09 10:00 KST: news_job"])) == 1
    assert exit_code(Ledger(faults={"kill-run": {**shown, "shown": False, "missing": ["not reaped"]}})) == 1
    # the notes say what the simulated clock advanced by
    assert time_note(None) == MEASURED and "measured wall duration" in MEASURED
    assert time_note(10.0) == "simulated time advances by a fixed 10 s per run (--run-cost)"
    # and how the intraday schedules were sampled: every 30 minutes unless told
    assert build_parser().parse_args(WINDOW).intraday_every is None
    assert build_parser().parse_args([*WINDOW, "--intraday-every", "5"]).intraday_every == 5
    assert "fire every 30 simulated minutes and at 15:55" in intraday_note(INTRADAY_EVERY)
    assert "merged (sampled every 5 minutes)" in intraday_note(EVERY_TICK)


def test_from_takes_a_kst_day_or_a_kst_time_on_the_tick_grid(capsys):
    parse = build_parser().parse_args
    assert parse(WINDOW).first.isoformat() == "2025-06-09T00:00:00+09:00"
    evening = parse(["simulate", "--from", "2025-06-07T21:05", "--to", "2025-06-07"]).first
    assert evening.isoformat() == "2025-06-07T21:05:00+09:00"
    for bad in ("2025-06-07T21:03", "2025-06-07T21:00+00:00", "2025-06-07T21:00\n", "2025-06-07T25:00", "June"):
        with pytest.raises(SystemExit) as exited:
            parse(["simulate", "--from", bad, "--to", "2025-06-07"])
        assert exited.value.code == 2 and "--from" in capsys.readouterr().err, bad


def test_the_intraday_schedules_are_sampled_on_the_grid_and_at_the_sessions_last_tick():
    from datetime import datetime

    from azak_cli.simulate.engine import Simulation
    from azak_core.market import KST

    day = datetime(2025, 6, 9, tzinfo=KST)
    coarse = Simulation(None, None, day, day, intraday_every=30)  # type: ignore[arg-type]  # no run is made
    kept = [f"{h:02d}:{m:02d}" for h in range(9, 16) for m in range(0, 60, 5)
            if coarse._sampled("quote_snapshots_schedule", day.replace(hour=h, minute=m))]
    assert kept == [f"{h:02d}:{m:02d}" for h in range(9, 16) for m in (0, 30)] + ["15:55"]
    assert coarse._sampled("minute_prices_schedule", day.replace(hour=15, minute=59))  # the last minutes (16:00's tick)
    assert not coarse._sampled("minute_prices_schedule", day.replace(hour=15, minute=54))
    assert coarse._sampled("news_schedule", day.replace(hour=9, minute=10))  # the others: every firing
    every = Simulation(None, None, day, day)  # type: ignore[arg-type]
    assert every._sampled("market_wide_schedule", day.replace(hour=9, minute=5))
