"""The engine, data, training loop, evaluation, explain and lab never import Qt (fresh
process)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Runs in a new interpreter: pytest-qt has already loaded PyQt5 into this one.
SCRIPT = """
import importlib, importlib.util, json, pkgutil, sys

def qt_modules():
    return sorted(name for name in sys.modules
                  if name.split(".")[0] in ("PyQt5", "pyqtgraph"))

names = []
for package in ("convlab.nn", "convlab.data", "convlab.lab"):
    module = importlib.import_module(package)
    names.append(package)
    found = pkgutil.iter_modules(module.__path__, package + ".")
    names += [info.name for info in found]
names += ["convlab.train", "convlab.evaluation", "convlab.explain"]

culprits = {}
for name in names:
    before = set(qt_modules())
    importlib.import_module(name)
    added = sorted(set(qt_modules()) - before)
    if added:
        culprits[name] = added
print(json.dumps({"imported": names, "culprits": culprits}))
"""


def test_engine_data_and_training_load_no_qt():
    """Importing convlab.nn, .data, .lab (all submodules), .train, .evaluation and
    .explain: no Qt."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert "convlab.nn.layers" in report["imported"]
    assert "convlab.nn.serialization" in report["imported"]
    assert "convlab.explain" in report["imported"]
    assert "convlab.evaluation" in report["imported"]
    assert "convlab.lab.channels" in report["imported"]
    assert "convlab.lab.batch_norm" in report["imported"]
    assert "convlab.lab.my_digits" in report["imported"]
    assert "convlab.lab.filter_edits" in report["imported"]
    assert "convlab.lab.pipeline" in report["imported"]
    assert "convlab.lab.presets" in report["imported"]
    assert "convlab.lab.snapshots" in report["imported"]
    assert "convlab.lab.network" in report["imported"]
    assert "convlab.lab.evaluation" in report["imported"]
    assert report["culprits"] == {}, f"these imports loaded Qt: {report['culprits']}"
