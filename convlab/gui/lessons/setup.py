"""What a lesson step does to the other rooms, and the live state its answer reads.

apply_setup() sets the window up through the rooms' public setters (the controller's
show_test_image, the Playground's controls and kernel, the Network tab's Backward
switch, the Training tab's architecture); app_state() reads the window back into a
lab.lessons.LessonState. Neither computes an answer: lab.lessons does.
"""

import numpy as np

from convlab.lab.lessons import LessonState
from convlab.lab.presets import make_preset, preset_size
from convlab.lab.snapshots import clone_model
from convlab.nn.architectures import NAMED_ARCHS
from convlab.resources import BUNDLED_MODEL, resource_path


def apply_setup(setup, window, controller, rng):
    """Do what a step's "setup" asks; returns the sentences of what could not be
    done (e.g. no dataset for a test digit), empty when all went through."""
    problems = []
    if setup.get("model") == "bundled":
        _open_bundled(controller, problems)
    if "architecture" in setup:
        spec = NAMED_ARCHS[setup["architecture"]]
        window.training_panel.set_arch(spec)
        controller.session.new_random_weights(spec)
    if "test_image" in setup:
        index = setup["test_image"]
        dataset = controller.dataset
        if dataset is None or not 0 <= index < len(dataset.x_test):
            problems.append(f"Test image {index} cannot be shown: load a dataset "
                            "(File > Open dataset folder or Download MNIST).")
        else:
            controller.show_test_image(index)
    _set_playground(setup, window.playground_panel, rng)
    if "network" in setup:
        window.network_view.backward_bar.set_backward(setup["network"] == "backward")
        controller.network.request_refresh()
    if "tab" in setup:
        window.show_tab(setup["tab"])
    return problems


def _open_bundled(controller, problems):
    """The bundled trained model, unless the student keeps unsaved weights."""
    files = controller.model_files
    if not files.confirm_discard("opening the bundled model for this lesson"):
        problems.append("The bundled model was not opened: the answers use the "
                        "network you have.")
        return
    if not files.open_model(str(resource_path(BUNDLED_MODEL)), report=False):
        problems.append("The bundled model could not be opened.")


def _set_playground(setup, playground, rng):
    controls = playground.controls
    kernel_keys = ("kernel", "kernel_size", "input_factor")
    # A preset typed into an open network filter would overwrite the network's
    # weights: the student's own kernel comes back first.
    if (setup.get("close_filter") or any(k in setup for k in kernel_keys)) and \
            playground.filters.is_open():
        playground.filters.close()
    if "input_factor" in setup:
        controls.set_input_factor(setup["input_factor"])
    if "stride" in setup:
        controls.set_stride(setup["stride"])
    if "padding" in setup:
        controls.set_padding(setup["padding"])
    if "pool" in setup or "pool_size" in setup or "pool_stride" in setup:
        controls.set_pooling(setup.get("pool", controls.settings().pool),
                             setup.get("pool_size"), setup.get("pool_stride"))
    if "side_by_side" in setup:
        controls.set_side_by_side(setup["side_by_side"])
    if "kernel" in setup:
        size = setup.get("kernel_size", playground.editor.kernel().shape[0])
        key = setup["kernel"]
        playground.set_kernel(make_preset(key, preset_size(key, size), rng))
    elif "kernel_size" in setup:
        playground.set_kernel(make_preset("identity", setup["kernel_size"], rng))
    if "open_filter" in setup:
        playground.open_filter(*setup["open_filter"])


def app_state(window, controller, record, private=False):
    """The LessonState of the window now; record: the TrainingRecord of the last run.

    private: copy the model, for an answer computed in a background thread while
    the GUI keeps drawing with (and training snapshots keep writing) view_model.
    """
    model = controller.view_model
    if private and model is not None:
        model = clone_model(model)
    dataset = controller.dataset
    images, labels = controller.my_digits.digits()
    image = controller.current_input
    return LessonState(
        image=None if image is None else np.array(image, np.float64),
        label=controller.current_label,
        pipeline=window.playground_panel.results(),
        model=model,
        x_test=None if dataset is None else dataset.x_test,
        y_test=None if dataset is None else dataset.y_test,
        training=record, my_images=images, my_labels=labels)
