"""lab.lessons: the lesson file format, its errors with line numbers, and every
answer kind checked against the engine it names."""

import json

import numpy as np
import pytest

from convlab import explain, nn
from convlab.evaluation import evaluate
from convlab.lab import lesson_files as files
from convlab.lab import lessons as lab
from convlab.lab.batch_norm import train_vs_eval
from convlab.lab.channels import partial_maps
from convlab.lab.filter_edits import switch_off_command, with_filter
from convlab.lab.pipeline import kernel_pipeline
from convlab.lab.presets import make_preset
from convlab.lab.update import filter_step
from convlab.nn.architectures import NAMED_ARCHS, build
from convlab.nn.functional import conv_output_size
from convlab.nn.reference import conv_single_step, create_mask_from_window, pool_forward
from convlab.resources import BUNDLED_MODEL, LESSONS, resource_path


@pytest.fixture(scope="module")
def model():
    """The bundled trained network."""
    return nn.load_model(str(resource_path(BUNDLED_MODEL))).model


@pytest.fixture
def digits():
    """Eight digit-like images (8, 1, 28, 28) and labels."""
    rng = np.random.default_rng(1)
    x = np.zeros((8, 1, 28, 28), np.float32)
    for i in range(8):
        x[i, 0, 5 + i:18 + i, 8:12 + i] = 0.5 + 0.5 * rng.random((13, 4 + i))
    return x, np.arange(8) % 10


def pipeline(image, kernel="sobel_x", size=3, stride=1, padding=0, pool="max",
             pool_size=2, pool_stride=2):
    """A Playground computation of image under a preset kernel."""
    k = make_preset(kernel, size, np.random.default_rng(0))
    return kernel_pipeline(image, k, 0.25, stride, padding, pool, pool_size,
                           pool_stride)


def state_for(digits, model=None, index=0, **settings):
    """A LessonState for digit index of digits, with a Playground pipeline."""
    x, y = digits
    image = x[index, 0].astype(np.float64)
    return lab.LessonState(image=image, label=int(y[index]),
                           pipeline=pipeline(image, **settings), model=model,
                           x_test=x, y_test=y)


def test_output_size_and_pooled_size_follow_the_formula(digits):
    """output_size and pooled_size are conv_output_size of the Playground setting."""
    state = state_for(digits, kernel="box_blur", size=5, stride=2, padding=1)
    answer = lab.compute({"kind": "output_size"}, state)
    assert answer.value == conv_output_size(28, 5, 2, 1) == 13
    assert answer.working.endswith("= 13")
    pooled = lab.compute({"kind": "pooled_size"}, state)
    assert pooled.value == conv_output_size(13, 2, 2, 0) == 6


def test_unreached_rows_counts_the_rows_no_window_reads(digits):
    """A 2-wide window at stride 3 over 7 rows reads rows 0, 1, 3, 4 only."""
    image = digits[0][0, 0, :7, :7].astype(np.float64)
    state = lab.LessonState(pipeline=pipeline(image, "box_blur", 2, stride=3,
                                              pool="none"))
    answer = lab.compute({"kind": "unreached_rows"}, state)
    assert answer.value == 3
    assert "[2, 5, 6]" in answer.working


def test_conv_cell_is_conv_single_step_on_the_window_and_follows_the_digit(digits):
    """conv_cell is reference.conv_single_step on the padded window, and changes
    with the digit."""
    spec = {"kind": "conv_cell", "row": 6, "col": 4}
    values = []
    for index in (0, 5):
        state = state_for(digits, index=index, stride=2, padding=1)
        r = state.pipeline
        window = r.padded[12:15, 8:11]
        values.append(lab.compute(spec, state).value)
        assert values[-1] == pytest.approx(conv_single_step(window, r.kernel, 0.25))
        assert values[-1] == pytest.approx(r.conv[6, 4])
    assert values[0] != pytest.approx(values[1])


def test_a_cell_outside_the_output_is_unavailable_not_a_crash(digits):
    """A cell beyond the output says which size the output is."""
    with pytest.raises(lab.AnswerUnavailable, match="26x26"):
        lab.compute({"kind": "conv_cell", "row": 30, "col": 0}, state_for(digits))
    with pytest.raises(lab.AnswerUnavailable, match="Playground"):
        lab.compute({"kind": "output_size"}, lab.LessonState())


def test_pool_cell_is_reference_pooling(digits):
    """pool_cell max and avg equal reference.pool_forward of the ReLU output."""
    state = state_for(digits, index=3, padding=1)
    relu = state.pipeline.relu[None, None]
    for mode, ref in (("max", "max"), ("avg", "average")):
        expected = pool_forward(relu, 2, 2, mode=ref)[0][0, 0, 6, 4]
        got = lab.compute({"kind": "pool_cell", "mode": mode, "row": 6, "col": 4},
                          state).value
        assert got == pytest.approx(expected)


def test_max_position_is_where_create_mask_from_window_puts_the_gradient(digits):
    """max_position names the cell create_mask_from_window marks."""
    state = state_for(digits, index=2, padding=1)
    relu = state.pipeline.relu
    names = ("top-left", "top-right", "bottom-left", "bottom-right")
    for row, col in ((6, 5), (8, 6), (0, 0)):
        mask = create_mask_from_window(relu[2 * row:2 * row + 2, 2 * col:2 * col + 2])
        answer = lab.compute({"kind": "max_position", "row": row, "col": col}, state)
        assert answer.value == names[int(np.argmax(mask))]
        assert answer.options == names


def test_gradient_sign_is_backprops_sign(model, digits):
    """gradient_sign is the sign of explain.backprop's dL/dw for the true digit."""
    for index in range(4):
        state = state_for(digits, model, index)
        g = explain.backprop(model, state.image, state.label).layers[0].grad_weight
        spec = {"kind": "gradient_sign", "layer": 0, "filter": 3, "channel": 0,
                "row": 0, "col": 2}
        expected = "positive" if g[3, 0, 0, 2] > 0 else "negative"
        assert lab.compute(spec, state).value == expected


def test_step_loss_follows_filter_step(model, digits):
    """step_loss says lower exactly when filter_step's loss after is lower."""
    state = state_for(digits, model, 1)
    for lr in (0.01, 1000.0):
        step = filter_step(model, state.image, state.label, 0, 0, lr)
        answer = lab.compute({"kind": "step_loss", "layer": 0, "filter": 0,
                              "lr": lr}, state)
        assert answer.value == ("lower" if step.loss_after < step.loss_before
                                else "higher")
        assert f"{step.loss_after:.4g}" in answer.working


def test_switch_off_drop_measures_with_the_filter_off(model, digits):
    """switch_off_drop compares train.evaluate with and without the filter."""
    state = state_for(digits, model)
    x, y = digits
    off = with_filter(model, 0, 4, *(model.layers[0].weight.data[4],
                                      model.layers[0].bias.data[4]))
    switch_off_command(0, 4)(off)
    before = evaluate(model, x, y)["accuracy"]
    after = evaluate(off, x, y)["accuracy"]
    answer = lab.compute({"kind": "switch_off_drop", "layer": 0, "filter": 4}, state)
    assert f"{before:.1%} with filter 4 on, {after:.1%} with it off" in answer.working
    points = 100 * (after - before)
    assert (answer.value == lab.DROPS[0]) == (points < -1)
    assert model.layers[0].weight.data[4].any()  # the model itself is untouched


def test_filter_channels_and_top_channel_come_from_partial_maps(model, digits):
    """A second-layer filter sums 32 partial maps; the top channel is theirs."""
    state = state_for(digits, model, 2)
    below = model.activations(digits[0][2:3])[2][0].astype(np.float64)
    conv = model.layers[3]
    maps = partial_maps(below, conv.weight.data[5], float(conv.bias.data[5]))
    count = lab.compute({"kind": "filter_channels", "layer": 3, "filter": 5}, state)
    top = lab.compute({"kind": "top_channel", "layer": 3, "filter": 5}, state)
    assert count.value == 32 == len(maps.partial)
    assert top.value == maps.order[0]
    with pytest.raises(lab.AnswerUnavailable, match="not a convolution"):
        lab.compute({"kind": "filter_channels", "layer": 1, "filter": 0}, state)


def test_batch_norm_modes_uses_train_vs_eval(digits):
    """batch_norm_modes reads lab.batch_norm's train_vs_eval of the first BN layer."""
    net = build(NAMED_ARCHS["sample-bn"], np.random.default_rng(0))
    state = state_for(digits, net)
    result = train_vs_eval(net, 1, state.image, digits[0][:lab.BATCH_NORM_BATCH])
    answer = lab.compute({"kind": "batch_norm_modes"}, state)
    assert answer.value == ("different" if np.abs(result.difference).max() > 1e-6
                            else "the same")
    with pytest.raises(lab.AnswerUnavailable, match="no batch norm"):
        lab.compute({"kind": "batch_norm_modes"}, state_for(digits, build(
            NAMED_ARCHS["tiny"], np.random.default_rng(0))))


def test_run_answers_read_the_training_record():
    """The run kinds read the recorded losses and last epoch, or ask for a run."""
    state = lab.LessonState()
    with pytest.raises(lab.AnswerUnavailable, match="No training run"):
        lab.compute({"kind": "run_loss_trend"}, state)
    state.training = lab.TrainingRecord(losses=[2.3] * 8 + [0.5] * 8, train_acc=0.99,
                                        val_acc=0.7, epochs=40)
    assert lab.compute({"kind": "run_loss_trend"}, state).value == "went down"
    assert lab.compute({"kind": "overfit_gap"}, state).value == lab.GAPS[0]
    assert lab.compute({"kind": "last_validation_accuracy"}, state).value == 70.0
    state.training.losses = [2.3, float("nan")] * 8
    assert lab.compute({"kind": "run_loss_trend"}, state).value == "went up or stayed"


def test_my_digits_right_counts_the_network_reading_right(model, digits):
    """my_digits_right is the number of labelled digits the network reads right."""
    x, y = digits
    read = np.argmax(model.forward(x), axis=1)
    state = lab.LessonState(model=model, my_images=x[:, 0], my_labels=y)
    assert lab.compute({"kind": "my_digits_right"}, state).value == int(
        np.sum(read == y))


def test_check_numbers_choices_and_text():
    """Whole numbers are exact, others within the tolerance; junk gets a hint."""
    size = lab.Answer(13, "")
    assert lab.check({"kind": "output_size"}, size, " 13 ")
    assert not lab.check({"kind": "output_size"}, size, "13.4")
    cell = lab.Answer(-1.2345, "")
    spec = {"kind": "conv_cell", "row": 0, "col": 0}
    assert lab.check(spec, cell, "-1,24")
    assert not lab.check(spec, cell, "-1.25")
    assert lab.check({**spec, "tolerance": 0.1}, cell, "-1.3")
    with pytest.raises(ValueError, match="not a number"):
        lab.check(spec, cell, "about one")
    sign = lab.Answer("negative", "")
    assert lab.check({"kind": "gradient_sign"}, sign, "negative")
    assert not lab.check({"kind": "gradient_sign"}, sign, "positive")


def test_every_shipped_lesson_parses():
    """All bundled lessons load, at least twelve, with no error."""
    found, errors = files.load_folder(resource_path(LESSONS))
    assert not errors
    assert len(found) >= 12
    assert len({lesson.id for lesson in found}) == len(found)


GOOD_STEP = {"question": "q", "answer": {"kind": "output_size"}}


def lesson_text(**changes):
    """A lesson as indented JSON text, steps[0] updated with changes."""
    step = {**GOOD_STEP, **changes}
    return json.dumps({"title": "t", "steps": [GOOD_STEP, step]}, indent=2)


def line_of(text, fragment):
    """The 1-based line of the first occurrence of fragment."""
    return text[:text.index(fragment)].count("\n") + 1


@pytest.mark.parametrize("changes, fragment, problem", [
    ({"answer": {"kind": "output_sise"}}, '"output_sise"', "unknown answer kind"),
    ({"answer": {"kind": "conv_cell", "row": 1}},
     '"answer": {\n        "kind": "conv_cell"', "'col' is missing"),
    ({"answer": {"kind": "conv_cell", "row": "one", "col": 1}}, '"row"',
     "'row' must be a whole number"),
    ({"setup": {"stride": 2, "kernal": "sobel_x"}}, '"kernal"', "unknown key"),
    ({"setup": {"kernel": "sobel_z"}}, '"sobel_z"', "'kernel' must be a preset"),
    ({"setup": {"tab": "kitchen"}}, '"kitchen"', "'tab' must be"),
    ({"run": {"images": 0, "epochs": 1}}, '"images"', "'images' must be at least"),
    ({"look_at": "attic"}, '"attic"', "'look_at' must be"),
    ({"quesiton": "x"}, '"quesiton"', "unknown key 'quesiton'"),
])
def test_schema_errors_name_the_line_of_the_offending_key(changes, fragment,
                                                          problem):
    """A schema error names the line of the key at fault and what is wrong."""
    text = lesson_text(**changes)
    with pytest.raises(files.LessonError) as caught:
        files.parse_lesson(text, "mine.json")
    assert caught.value.line == line_of(text, fragment)
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"mine.json, line {caught.value.line}: ")


def test_json_syntax_errors_and_missing_parts_name_their_line():
    """Bad JSON gives json's own line; an empty steps list its key's line."""
    with pytest.raises(files.LessonError) as caught:
        files.parse_lesson('{\n  "title": "t",\n  "steps": [\n  }\n', "x.json")
    assert caught.value.line == 4 and "not valid JSON" in caught.value.problem
    with pytest.raises(files.LessonError) as caught:
        files.parse_lesson('{"title": "t",\n "steps": []}', "x.json")
    assert caught.value.line == 2 and "empty" in caught.value.problem
    with pytest.raises(files.LessonError, match="'title' is missing"):
        files.parse_lesson('{"steps": []}', "x.json")


def test_line_map_follows_nesting_and_strings_with_brackets():
    """line_map gives the line of every key and array item, whatever strings hold."""
    text = '{\n "a": "[{,:}]",\n "b": [\n  1,\n  {"c": true}\n ]\n}'
    lines = files.line_map(text)
    assert lines[("a",)] == 2 and lines[("b",)] == 3
    assert lines[("b", 0)] == 4 and lines[("b", 1)] == 5
    assert lines[("b", 1, "c")] == 5


def test_load_folder_keeps_the_good_lessons_beside_the_bad(tmp_path):
    """One bad file does not stop the others loading."""
    (tmp_path / "a.json").write_text(lesson_text())
    (tmp_path / "b.json").write_text("{ not json")
    (tmp_path / "c.json").write_bytes(b"\xff\xfe\x00")
    found, errors = files.load_folder(tmp_path)
    assert [lesson.id for lesson in found] == ["a"]
    assert [e.name for e in errors] == ["b.json", "c.json"]
    assert errors[0].line == 1


def test_step_states_apply_each_steps_setup_in_turn(model, digits):
    """The teacher's states follow each step's setup: padding 0, 2, then a 7x7
    kernel with padding 1; a fresh-weights step is known only live."""
    found = {lesson.id: lesson for lesson in files.load_folder(
        resource_path(LESSONS))[0]}
    playground = lab.PlaygroundSetting(make_preset("identity", 3, None))
    state = lab.LessonState(image=digits[0][0, 0].astype(np.float64), x_test=digits[0],
                            y_test=digits[1])
    sizes = [lab.compute({"kind": "output_size"}, s).value
             for s, _ in lab.step_states(found["02_padding"], state, playground)]
    assert sizes == [24, 28, 24]
    states = lab.step_states(found["11_overfitting"], state, playground)
    assert states[0] == (None, "the step makes fresh random weights")
    cells = lab.step_states(found["04_pooling"], state, playground, lambda: model)
    first = cells[1][0]
    assert np.array_equal(first.image, digits[0][1, 0])  # test_image 1
    assert first.pipeline.max.shape == (7, 7)


def test_largest_cell_is_the_argmax_of_the_map(digits):
    """largest_cell names the argmax cell of the conv or pooled map, as a click."""
    state = state_for(digits, index=4, padding=1)
    for stage, values in (("conv", state.pipeline.conv), ("pool", state.pipeline.max)):
        row, col = np.unravel_index(np.argmax(values), values.shape)
        answer = lab.compute({"kind": "largest_cell", "stage": stage}, state)
        assert answer.value == lab.cell_text(row, col) == f"row {row}, column {col}"
        assert lab.check({"kind": "largest_cell"}, answer, lab.cell_text(row, col))
        assert not lab.check({"kind": "largest_cell"}, answer,
                             lab.cell_text(row, col + 1))
