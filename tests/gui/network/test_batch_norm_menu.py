"""View > Batch normalization…: enabled exactly for a network with batch norm, and
it opens the Network tab's batch-norm view."""

import numpy as np

from convlab.gui.main_window import TABS
from convlab.nn import layers
from convlab.nn.architectures import NAMED_ARCHS, build


def batch_norm_layers(model):
    """The indices of the model's batch-norm layers."""
    return [i for i, layer in enumerate(model.layers)
            if isinstance(layer, layers.BatchNorm2d)]


def test_the_action_is_in_the_view_menu_and_off_for_the_bundled_network(window):
    """The View menu lists the action; the bundled network has no batch norm, so it
    is disabled and its status tip says what it would show."""
    view_menu = next(a.menu() for a in window.menuBar().actions()
                     if a.text() == "&View")
    assert window.batch_norm_action in view_menu.actions()
    assert not batch_norm_layers(window.controller.view_model)
    assert not window.batch_norm_action.isEnabled()
    assert "batch mean and variance" in window.batch_norm_action.statusTip()


def test_a_network_with_batch_norm_enables_it_and_it_opens_the_view(qtbot, window):
    """Opening the sample-bn network enables the action; triggering it from the
    Training tab shows the Network tab and the batch-norm view of the network's
    first batch-norm layer; a network without batch norm disables it again."""
    model = build(NAMED_ARCHS["sample-bn"], np.random.default_rng(0))
    window.controller.model_files.model_opened.emit(model, None, "bn")
    assert window.batch_norm_action.isEnabled()
    window.show_tab("training")
    window.batch_norm_action.trigger()
    assert window.tabs.currentIndex() == TABS.index("network")
    bn = window.controller.network.depth.batch_norm_view
    assert bn.isVisible()
    columns = [i + 1 for i in batch_norm_layers(window.controller.view_model)]
    assert [bn.layer_combo.itemData(i) for i in range(bn.layer_combo.count())] \
        == columns
    assert bn.layer_combo.currentData() == columns[0]
    plain = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    window.controller.model_files.model_opened.emit(plain, None, "plain")
    assert not window.batch_norm_action.isEnabled()
    assert not bn.isVisible()


def test_new_weights_with_batch_norm_from_the_editor_enable_it(qtbot, window):
    """Batch norm ticked in the architecture editor and New random weights: the
    new network has batch norm, and the action follows it."""
    panel = window.training_panel
    panel.arch_editor.batch_norm.click()
    with qtbot.waitSignal(window.controller.session.model_changed, timeout=5000):
        panel.reinit.click()
    assert batch_norm_layers(window.controller.view_model)
    assert window.batch_norm_action.isEnabled()
    window.batch_norm_action.trigger()
    assert window.controller.network.depth.batch_norm_view.isVisible()
