"""Opening a dataset from the File menu loads it in the background."""

import os
import threading

from convlab.data import sources
from convlab.data.mnist import MnistFormatError
from convlab.gui.common import dialogs
from convlab.gui.common.settings import app_settings


def slow_loader(monkeypatch, result):
    """Make load_dataset wait for the returned Event, then return or raise result."""
    release = threading.Event()

    def load_dataset(folder):
        release.wait(10)
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(sources, "load_dataset", load_dataset)
    return release


def test_menu_loads_in_the_background_and_keeps_the_old_data_meanwhile(
        qtbot, window, tiny_dataset, monkeypatch, tmp_path):
    """File > Open dataset folder returns at once; the old dataset stays in use until
    the new one has loaded."""
    from convlab.data.sources import Dataset

    controller = window.controller
    controller.set_dataset(tiny_dataset)
    new = Dataset("new digits", tiny_dataset.x_train, tiny_dataset.y_train,
                  tiny_dataset.x_test[:5], tiny_dataset.y_test[:5])
    release = slow_loader(monkeypatch, new)
    monkeypatch.setattr(dialogs, "ask_directory", lambda *a: str(tmp_path))
    window.open_data_action.trigger()
    assert controller.dataset is tiny_dataset  # the GUI thread did not wait
    release.set()
    qtbot.waitUntil(lambda: controller.dataset is new, timeout=10000)
    assert app_settings().value("dataFolder") == str(tmp_path)


def test_a_failed_background_load_keeps_the_old_data(qtbot, window, tiny_dataset,
                                                     monkeypatch, tmp_path, messages):
    """A damaged folder: the message says what and what to do, the data stays."""
    controller = window.controller
    controller.set_dataset(tiny_dataset)
    release = slow_loader(monkeypatch, MnistFormatError("t10k-images: truncated"))
    monkeypatch.setattr(dialogs, "ask_directory", lambda *a: str(tmp_path))
    window.open_data_action.trigger()
    release.set()
    qtbot.waitUntil(lambda: bool(messages), timeout=10000)
    kind, title, text = messages[-1]
    assert kind == "error" and "t10k-images: truncated" in text
    assert "train-images-idx3-ubyte.gz" in text  # what a good folder holds
    qtbot.waitUntil(lambda: not controller.data_files._tasks.running())
    assert controller.dataset is tiny_dataset


def test_relative_data_folder_is_remembered_as_absolute(window, tiny_dataset,
                                                        monkeypatch, tmp_path):
    """--data with a relative path stores the absolute path for the next start."""
    monkeypatch.setattr(sources, "load_dataset", lambda folder: tiny_dataset)
    (tmp_path / "mnist").mkdir()
    monkeypatch.chdir(tmp_path)
    assert window.controller.data_files.open_dataset("mnist")
    assert app_settings().value("dataFolder") == os.path.join(str(tmp_path), "mnist")


def test_relative_model_path_is_remembered_as_absolute(window, monkeypatch,
                                                       tmp_path):
    """A model opened by a relative path is remembered by its absolute path."""
    monkeypatch.chdir(tmp_path)
    assert window.controller.model_files.save_model(path="mine.npz")
    assert window.controller.model_files.open_model("mine.npz")
    assert app_settings().value("lastModel") == os.path.join(str(tmp_path),
                                                             "mine.npz")
