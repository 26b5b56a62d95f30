"""`python -m convlab bench gui` runs end to end with tiny durations."""

import json

from convlab.gui import bench
from convlab.gui.main_window import TABS


def test_bench_gui_json_is_well_formed(capsys):
    """A tiny run prints one JSON object with both views' figures and sane numbers."""
    code = bench.main(["--json", "--seconds", "0.3", "--rounds", "1",
                       "--kernel-repeats", "3"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["views"]) == set(bench.VIEWS)
    for figures in result["views"].values():
        late = figures["timer_late_ms"]
        assert set(late) >= {"p50", "p95", "max"}
        assert 0.0 <= late["p50"] <= late["p95"] <= late["max"]
        assert late["ticks"] > 0
        # The in-app rounds train the model the window shows, so its maps redraw.
        assert figures["refresh_hz"] > 0.0
        assert figures["throughput_ratio"] > 0.0
        assert figures["images_per_s"] > 0.0
    assert set(result["kernel_edit_ms"]) == {"median", "p95"}
    assert set(result["colour_kernel_edit_ms"]) == {"median", "p95"}
    assert set(result["floors"]) == set(bench.FLOORS)


def test_bench_gui_rounds_show_each_view(monkeypatch):
    """Each view's rounds run with that view on show."""
    shown = []
    real_app_round = bench.app_round

    def app_round(session, *args):
        window = session.parent().window  # the controller's window
        tab = window.tabs.currentIndex()
        shown.append((tab, window.network_view.is_backward()))
        return real_app_round(session, *args)

    monkeypatch.setattr(bench, "app_round", app_round)
    assert bench.main(["--json", "--seconds", "0.2", "--rounds", "1",
                       "--kernel-repeats", "0"]) == 0
    network, why = TABS.index("network"), TABS.index("why")
    assert shown == [(network, False), (network, True), (why, True)]


def test_bench_gui_table_names_every_floor(capsys):
    """Without --json the report is a readable table naming each floor."""
    assert bench.main(["--seconds", "0.2", "--rounds", "1",
                       "--kernel-repeats", "0"]) == 0
    out = capsys.readouterr().out
    assert "Backward view shown" in out
    for name in bench.FLOORS:
        # No kernel edits were timed, so their floor is not judged.
        assert (name in out) == (name not in (bench.KERNEL_FLOOR,
                                              bench.COLOUR_KERNEL_FLOOR))
