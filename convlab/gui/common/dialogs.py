"""Every message box and file chooser goes through here, so tests can replace them."""

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QFileDialog, QMessageBox

_ICONS = {
    "error": QMessageBox.Critical,
    "warning": QMessageBox.Warning,
    "info": QMessageBox.Information,
}


def show_message(parent, kind, title, text):
    """Show a non-modal message box (kind: error, warning or info) and return it.

    Non-modal so that nothing waits on a click: the app, the training thread and the
    tests all keep running while the student reads it.
    """
    box = QMessageBox(_ICONS[kind], title, text, QMessageBox.Ok, parent)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setWindowModality(Qt.NonModal)
    box.show()
    return box


def ask_save_changes(parent, title, text):
    """The desktop's "Save changes?" question; returns "save", "discard" or "cancel".

    Modal, unlike show_message: what happens next depends on the answer.
    """
    buttons = QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel
    box = QMessageBox(QMessageBox.Warning, title, text, buttons, parent)
    box.setDefaultButton(QMessageBox.Save)
    answer = box.exec_()
    return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer,
                                                                           "cancel")


def ask_open_file(parent, title, directory, file_filter):
    """Ask for an existing file; returns its path or "" when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, file_filter)
    return path


def ask_save_file(parent, title, directory, file_filter):
    """Ask where to save a file; returns its path or "" when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, directory, file_filter)
    return path


def ask_directory(parent, title, directory):
    """Ask for a folder; returns its path or "" when cancelled."""
    return QFileDialog.getExistingDirectory(parent, title, directory)
