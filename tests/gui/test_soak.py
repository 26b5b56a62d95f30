"""A seeded random student soaks the real window while it trains (about a minute)."""

import gc

import pytest

from convlab.gui.soak import record, run

# Random actions after the warm-up; with set-up, warm-up and close about 60 s in all.
SECONDS = 45


@pytest.fixture
def data_dir(request):
    """Real MNIST when the tests have it, else None (the soak draws a few digits)."""
    try:
        return request.getfixturevalue("mnist_dir")
    except pytest.skip.Exception:
        return None


@pytest.fixture
def own_process_heap():
    """The soak measures the window as in a student's fresh process: the objects
    earlier tests left in this one (about 850,000 after the GUI tests, whose full
    collection alone takes 2.5 s) are frozen, so the app's collections skip them."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.mark.soak
def test_random_student_meets_every_floor(qtbot, data_dir, own_process_heap):
    """A minute of random actions: no exception, stall, leak or broken promise."""
    result = run.run_soak(SECONDS, seed=0, data=data_dir)
    report = run.format_table(result)  # the stacks and the actions that led there
    assert result["exceptions"]["count"] == 0, report
    assert result["freeze"] is None, report
    assert result["stalls"]["max_ms"] < record.STALL_FLOOR_MS, report
    assert result["memory"]["growth_mb"] < record.RSS_FLOOR_MB, report
    assert result["close"]["clean"], report
    assert not result["violations"], report


def test_bench_soak_is_a_benchmark_target(capsys):
    """`python -m convlab bench soak --help` reaches the soak's own options."""
    from convlab import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "soak", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "bench soak" in out and "--seconds" in out and "--seed" in out
