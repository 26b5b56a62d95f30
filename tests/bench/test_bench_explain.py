"""The explain benchmark run tiny: well-formed figures, no timing checks."""

import json

import pytest

from convlab.bench import explain as bench_explain
from convlab.cli import main as cli_main

# Every timed explanation: its result key and its floor (median, ms).
FLOORS_MS = {"backprop": 5.0, "saliency_all": 20.0, "occlusion": 50.0}


def test_json_report_is_well_formed(capsys):
    """--json: each explanation has median <= p95 and its floor; one BLAS thread."""
    assert bench_explain.main(["--json", "--repeats", "3", "--warmup", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["repeats"] == 3
    assert result["blas_threads"] == 1
    assert set(result["floors"]) == {f"{key} median < {floor:g} ms"
                                     for key, floor in FLOORS_MS.items()}
    for key, floor in FLOORS_MS.items():
        ms = result[f"{key}_ms"]
        assert 0 < ms["min"] <= ms["median"] <= ms["p95"] <= ms["max"], key
        assert result["floors"][f"{key} median < {floor:g} ms"] == (
            ms["median"] < floor)


def test_text_report_through_the_command_line(capsys):
    """`convlab bench explain` prints each explanation's median, p95 and floor."""
    assert cli_main(["bench", "explain", "--repeats", "2", "--warmup", "0"]) == 0
    out = capsys.readouterr().out
    for name in ("explain.backprop", "explain.saliency_all", "explain.occlusion"):
        line = next(line for line in out.splitlines() if line.startswith(name))
        assert "median" in line and "p95" in line
    for key, floor in FLOORS_MS.items():
        assert f"{key} median < {floor:g} ms" in out


def test_bad_arguments_exit_with_usage():
    """A repeat count below 1 is refused by argparse."""
    with pytest.raises(SystemExit):
        bench_explain.main(["--repeats", "0"])
