"""The learning curves read plainly: no legend over the points, no hidden axis
scale, a word on training against validation, the previous run kept faded."""

import numpy as np

from convlab.gui.training.curves import LearningCurves
from convlab.gui.training.worker import TrainingProgress


def steps_report(steps, loss):
    """A TrainingProgress of these steps, each with this loss."""
    steps = np.asarray(steps)
    return TrainingProgress(
        steps=steps, losses=np.full(len(steps), loss),
        accuracies=np.full(len(steps), 0.5), step=int(steps[-1]), total_steps=100,
        epoch=1, lr=1e-3, images_per_s=1.0, fraction=0.1, seconds_left=1.0)


def test_no_legend_lies_over_the_plots(qtbot):
    """The legend is a line of text above the plots, not an item inside them."""
    curves = LearningCurves()
    qtbot.addWidget(curves)
    for plot in (curves.loss_plot, curves.acc_plot):
        assert plot.getPlotItem().legend is None
    legend = curves.legend.text()
    assert "validation" in legend and "previous run" in legend


def test_small_losses_are_shown_without_an_axis_multiplier(qtbot):
    """Losses of 0.001 give ticks in plain numbers, not "loss (x0.001)"."""
    curves = LearningCurves()
    qtbot.addWidget(curves)
    curves.add_steps(steps_report([1, 2, 3], 0.002))
    for plot in (curves.loss_plot, curves.acc_plot):
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            assert not axis.autoSIPrefix
            assert axis.autoSIPrefixScale == 1.0


def test_caption_explains_training_against_validation(qtbot):
    """Why the training dot may look worse than validation is said under the plots."""
    curves = LearningCurves()
    qtbot.addWidget(curves)
    text = curves.caption.text() + curves.caption.toolTip()
    assert "dropout" in text and "augmentation" in text and "average" in text


def test_previous_run_stays_faded_until_cleared(qtbot):
    """A new run keeps the last run's step curve, grey, until Clear previous run."""
    curves = LearningCurves()
    qtbot.addWidget(curves)
    curves.add_steps(steps_report([1, 2, 3], 1.0))
    curves.new_run()
    x, y = curves._previous["loss"].getData()
    np.testing.assert_array_equal(x, [1, 2, 3])
    assert curves._previous["loss"].opts["pen"].color().alpha() < 255
    assert curves.curve_points("loss", "step") == 0
    assert curves.clear_previous.isEnabled()
    curves.clear_previous.click()
    x, _ = curves._previous["loss"].getData()
    assert x is None or len(x) == 0
    assert not curves.clear_previous.isEnabled()
