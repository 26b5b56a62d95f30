"""The remembered settings: one QSettings store, read so that a bad value never stops
the window from starting.

The settings file may be old or edited by hand. A stored value that cannot be used is
set aside: the window starts with the default and says once, after start-up, which
settings it set aside (set_aside_report), then forgets them.
"""

from PyQt5.QtCore import QSettings


def app_settings():
    """The one QSettings store (an INI file in the user's config folder)."""
    return QSettings(QSettings.IniFormat, QSettings.UserScope, "ConvLab", "ConvLab")


def read_setting(settings, key, default, kind, set_aside, valid=None):
    """The stored value of key as kind (str, int, list, QByteArray), or default.

    A value that cannot be read as kind, or that valid(value) rejects, gives default
    and appends (key, why) to the list set_aside.
    """
    if not settings.contains(key):
        return default
    try:
        value = settings.value(key, default, kind)
    except TypeError:  # PyQt cannot convert the stored text to kind
        value = None
    if kind is list and isinstance(value, list) and not all(
            isinstance(v, str) for v in value):
        value = None  # the stored lists hold file paths
    if not isinstance(value, kind) or (valid is not None and not valid(value)):
        stored = settings.value(key)
        set_aside.append((key, f"{str(stored)[:60]!r} is not a valid value"))
        return default
    return value


class Settings:
    """The window's settings store and the values set aside while starting.

    read() never fails (see read_setting); save() stores a value unless remember is
    False (screenshots and benchmarks must leave the student's settings alone).
    """

    def __init__(self):
        self.store = app_settings()
        self.remember = True
        self.set_aside = []  # (key, why) of stored values not used

    def read(self, key, default, kind, valid=None):
        """The stored value of key as kind, or default (noting why in set_aside)."""
        return read_setting(self.store, key, default, kind, self.set_aside, valid)

    def peek(self, key, default, kind):
        """Like read, for a value read again later: a bad one is not reported twice."""
        return read_setting(self.store, key, default, kind, [])

    def save(self, key, value):
        """Store a value, unless this window must leave the settings alone."""
        if self.remember:
            self.store.setValue(key, value)

    def take_set_aside(self, forget=True):
        """The (key, why) set aside so far, emptying the list.

        With forget (and remember), the stored values go too, so the next start does
        not meet them again.
        """
        set_aside, self.set_aside = self.set_aside, []
        if forget and self.remember:
            for key, _ in set_aside:
                self.store.remove(key)
        return set_aside


def set_aside_report(set_aside):
    """The message that says which remembered settings were set aside, and why."""
    lines = "\n".join(f"• {key}: {why}" for key, why in set_aside)
    return (f"ConvLab set aside {len(set_aside)} remembered setting(s) it could not "
            f"use and started with the default instead:\n\n{lines}\n\n"
            "Nothing else changed; your files are untouched.")
