"""`segwise demo generate` end to end through the console entry point."""

from __future__ import annotations

from etl.cli import main
from tests.demo.conftest import read_csv


def test_generate_history_and_feed(tmp_path, capsys):
    assert main(["demo", "generate", "--out", str(tmp_path), "--customers", "200"]) == 0
    out = capsys.readouterr().out
    assert "universe of 200 customers" in out and "malformed rows" in out
    assert len(read_csv(tmp_path / "customers.csv")) == 200
    for name in ("products.csv", "order_lines.csv"):
        assert (tmp_path / name).stat().st_size > 0

    argv = ["demo", "generate", "--out", str(tmp_path), "--day", "2026-11-05", "--customers", "200"]
    assert main(argv) == 0
    assert "2026-11-05" in capsys.readouterr().out
    assert (tmp_path / "order_lines_2026-11-05.csv").exists()


def test_lines_option_sizes_the_universe(tmp_path, capsys):
    argv = ["demo", "generate", "--out", str(tmp_path), "--lines", "5000", "--start", "2026-01-01"]
    assert main(argv) == 0
    n = len(read_csv(tmp_path / "order_lines.csv"))
    assert 4700 < n < 5300


def test_conflicting_or_bad_options_exit_2_with_a_message(tmp_path, capsys):
    out = str(tmp_path)
    cases = [
        (["--lines", "100", "--customers", "5"], "either --lines or --customers"),
        (["--day", "2026-11-05", "--start", "2026-01-01"], "--day writes one day's feed"),
        (["--day", "5/11/2026"], "day must be a date YYYY-MM-DD"),
        (["--seed", "-1"], "seed must be a non-negative integer"),
    ]
    for extra, message in cases:
        assert main(["demo", "generate", "--out", out, *extra]) == 2
        assert message in capsys.readouterr().err
