"""The explain benchmark run tiny: well-formed figures, no timing checks."""

import json

import pytest

from convlab.bench import explain as bench_explain
from convlab.cli import main as cli_main


def test_json_report_is_well_formed(capsys):
    """--json prints one JSON object: median <= p95, the floor and one BLAS thread."""
    assert bench_explain.main(["--json", "--repeats", "3", "--warmup", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    ms = result["backprop_ms"]
    assert 0 < ms["min"] <= ms["median"] <= ms["p95"] <= ms["max"]
    assert result["repeats"] == 3
    assert result["blas_threads"] == 1
    assert set(result["floors"]) == {"median < 5 ms"}
    assert result["floors"]["median < 5 ms"] == (ms["median"] < 5.0)


def test_text_report_through_the_command_line(capsys):
    """`convlab bench explain` prints the median, the p95 and the floor's verdict."""
    assert cli_main(["bench", "explain", "--repeats", "2", "--warmup", "0"]) == 0
    out = capsys.readouterr().out
    assert "explain.backprop" in out
    assert "median" in out and "p95" in out
    assert "median < 5 ms" in out


def test_bad_arguments_exit_with_usage():
    """A repeat count below 1 is refused by argparse."""
    with pytest.raises(SystemExit):
        bench_explain.main(["--repeats", "0"])
