"""Remembered settings: bad stored values are set aside, never fatal."""

from PyQt5.QtCore import QByteArray

from convlab.gui.common.settings import Settings, app_settings, set_aside_report


def test_a_bad_value_gives_the_default_and_is_set_aside():
    """A value of the wrong kind or rejected by valid reads as the default, once noted;
    peek reads it again without noting it twice."""
    store = app_settings()
    store.setValue("window/tab", "abc")
    store.setValue("input/brush", 500)
    settings = Settings()
    assert settings.read("window/tab", 0, int) == 0
    assert settings.read("input/brush", 7, int, lambda b: b < 100) == 7
    assert settings.read("window/geometry", QByteArray(), QByteArray).isEmpty()
    assert [key for key, _ in settings.set_aside] == ["window/tab", "input/brush"]
    assert settings.peek("window/tab", 0, int) == 0
    assert len(settings.set_aside) == 2


def test_taking_the_set_aside_values_forgets_them_only_when_asked():
    """take_set_aside empties the list; with forget the stored values go too, and a
    window that must not remember keeps them."""
    app_settings().setValue("window/tab", "abc")
    settings = Settings()
    settings.read("window/tab", 0, int)
    taken = settings.take_set_aside(forget=False)
    assert [key for key, _ in taken] == ["window/tab"] and settings.set_aside == []
    assert app_settings().contains("window/tab")
    settings.remember = False
    settings.read("window/tab", 0, int)
    settings.take_set_aside()
    assert app_settings().contains("window/tab")
    settings.remember = True
    settings.read("window/tab", 0, int)
    assert "window/tab" in set_aside_report(settings.take_set_aside())
    assert not app_settings().contains("window/tab")


def test_save_stores_only_while_remembering():
    """A window that must leave the settings alone (screenshots) stores nothing."""
    settings = Settings()
    settings.remember = False
    settings.save("input/brush", 12)
    assert not app_settings().contains("input/brush")
    settings.remember = True
    settings.save("input/brush", 12)
    assert app_settings().value("input/brush", 0, int) == 12
