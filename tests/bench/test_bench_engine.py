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


def test_bad_arguments_exit_with_usage():
    """A repeat count below 1 is refused by argparse."""
    with pytest.raises(SystemExit):
        engine.main(["--repeats", "0"])
