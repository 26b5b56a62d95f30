"""The engine benchmark run tiny: well-formed figures, no timing checks."""

import json

import pytest

from convlab.bench import engine

TINY = ["--repeats", "1", "--steps", "1", "--batch-size", "4",
        "--reference-images", "1", "--latency-runs", "2", "--settle", "0"]


def test_json_report_is_well_formed(capsys):
    """--json prints one JSON object with positive rates for every engine it ran."""
    assert engine.main([*TINY, "--json", "--no-torch"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["images_per_s"]) == {"convlab", "reference"}
    assert all(v > 0 for v in result["images_per_s"].values())
    assert result["ratio_convlab_to_reference"] > 0
    assert result["latency_ms"]["convlab"] > 0
    assert result["batch_size"] == 4 and result["repeats"] == 1


def test_text_report_with_torch(capsys):
    """The text report names ConvLab, PyTorch and the reference loops with ratios."""
    pytest.importorskip("torch")
    assert engine.main(TINY) == 0
    out = capsys.readouterr().out
    assert "ConvLab (NumPy)" in out
    assert "x PyTorch" in out
    assert "x reference" in out
    assert "forward pass (eval)" in out


def test_benchmark_keeps_freed_memory(monkeypatch, capsys):
    """The benchmark sets the allocator up itself, as every training program does."""
    calls = []
    monkeypatch.setattr(engine, "keep_freed_memory", lambda: calls.append(1))
    assert engine.main([*TINY, "--json", "--no-torch"]) == 0
    assert calls == [1]


def test_bad_arguments_exit_with_usage():
    """A repeat count below 1 is refused by argparse."""
    with pytest.raises(SystemExit):
        engine.main(["--repeats", "0"])


MATRIX = ["--matrix", "--quick", "--repeats", "1", "--seconds", "0.001",
          "--latency-runs", "2", "--settle", "0"]


def test_matrix_json_without_torch(capsys):
    """--matrix --quick --json reports every cell, latency and memory, torch skipped."""
    assert engine.main([*MATRIX, "--json", "--no-torch"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["torch_skipped"] == "left out (--no-torch)"
    assert list(result["cases"]) == ["sample", "k5-p2"]
    for entry in result["cases"].values():
        assert set(entry["cells"]) == {"train 16", "eval 500"}
        for cell in entry["cells"].values():
            assert set(cell["images_per_s"]) == {"convlab"}
            assert cell["images_per_s"]["convlab"] > 0
            assert "ratio" not in cell
        assert entry["latency_ms"]["convlab"] > 0
    memory = result["cases"]["sample"]["memory"]["convlab"]
    assert memory["tracemalloc_peak_bytes"] > 0
    assert "memory" not in result["cases"]["k5-p2"]


def test_matrix_text_with_torch(capsys):
    """The text matrix has median and best-repeat ratios per network and setting."""
    pytest.importorskip("torch")
    assert engine.main([*MATRIX, "--no-memory"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "ConvLab / PyTorch" in lines[0]
    assert "train 16" in lines[1] and "eval 500" in lines[1]
    rows = [line for line in lines if line.startswith(("sample ", "k5-p2 "))]
    assert len(rows) == 4  # the median table, then the best-repeat one
    assert all(row.count("x") >= 2 for row in rows)
