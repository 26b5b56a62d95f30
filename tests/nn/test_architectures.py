"""Architecture specs: the sample network, shapes, plain-English errors, --arch."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import nn
from convlab.nn.architectures import (
    NAMED_ARCHS,
    ArchSpec,
    ConvBlock,
    arch_of,
    build,
    check_fits_mnist,
    layer_shapes,
    load_arch,
)


def test_sample_is_the_classic_network():
    """'sample' builds exactly the classic two-block teaching network."""
    rng = np.random.default_rng(0)
    expected = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    assert build(NAMED_ARCHS["sample"], rng).get_config() == expected.get_config()


def test_named_archs_include_a_batch_norm_variant():
    """A batch-norm variant of the sample network is available by name."""
    net = build(NAMED_ARCHS["sample-bn"], np.random.default_rng(0))
    kinds = [type(layer).__name__ for layer in net]
    assert kinds[:4] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
    assert kinds.count("BatchNorm2d") == 2


@pytest.mark.parametrize("name", NAMED_ARCHS)
def test_layer_shapes_match_the_built_network(name):
    """layer_shapes lists one (label, shape) per layer, equal to the real outputs."""
    spec = NAMED_ARCHS[name]
    net = build(spec, np.random.default_rng(0))
    x = np.random.default_rng(1).random((1, spec.in_channels, spec.input_size,
                                         spec.input_size), dtype=np.float32)
    shapes = layer_shapes(spec)
    outputs = net.activations(x)
    assert len(shapes) == len(net.layers)
    assert [shape for _, shape in shapes] == [out.shape[1:] for out in outputs]
    assert all(isinstance(label, str) and label for label, _ in shapes)


def test_every_editor_option_builds():
    """Strides, padding, avg/no pooling, no dense layer and dropout all fit together."""
    spec = ArchSpec(
        blocks=[ConvBlock(6, 5, stride=2, padding=2, pool="avg", pool_size=2),
                ConvBlock(4, 3, pool="none"), ConvBlock(3, 1, pool="max", pool_size=3)],
        batch_norm=True, dense=0, dropout=0.5, in_channels=3, input_size=32,
        num_classes=4)
    net = build(spec, np.random.default_rng(0))
    out = net.forward(np.zeros((2, 3, 32, 32), np.float32))
    assert out.shape == (2, 4)
    labels = [label for label, _ in layer_shapes(spec)]
    assert "Block 1 avg pool 2x2" in labels and "Dropout 0.5" in labels
    assert not any(label.startswith("Dense") for label in labels)


def test_impossible_kernel_explains_the_numbers():
    """A kernel larger than its input gives the block, the numbers and the formula."""
    spec = ArchSpec(blocks=[ConvBlock(8, 5), ConvBlock(8, 5), ConvBlock(8, 5)])
    # 28 -> conv 24 -> pool 12 -> conv 8 -> pool 4 -> a 5x5 kernel cannot fit.
    with pytest.raises(ValueError) as info:
        layer_shapes(spec)
    assert str(info.value).startswith(
        "Block 3 conv: a 5x5 kernel does not fit the 4x4 input (padding 0): "
        "out = (4 + 2*0 - 5) // 1 + 1 = 0"
    )
    with pytest.raises(ValueError, match="Block 3 conv"):
        build(spec, np.random.default_rng(0))


def test_impossible_pool_explains_the_numbers():
    """A pooling window larger than its input is explained the same way."""
    spec = ArchSpec(blocks=[ConvBlock(8, 3, stride=3, pool="max", pool_size=10)])
    with pytest.raises(ValueError, match=r"Block 1 max pool: a 10x10 window does not "
                                         r"fit the 9x9 input: out = \(9 - 10\) // 10"):
        layer_shapes(spec)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (ArchSpec(blocks=[]), "1 to 3 conv blocks"),
        (ArchSpec(blocks=[ConvBlock()] * 4), "1 to 3 conv blocks, got 4"),
        (ArchSpec(blocks=[ConvBlock(filters=0)]), "Block 1 filters must be at least 1"),
        (ArchSpec(blocks=[ConvBlock(stride=0)]), "Block 1 stride"),
        (ArchSpec(blocks=[ConvBlock(), ConvBlock(padding=-1)]), "Block 2 padding"),
        (ArchSpec(blocks=[ConvBlock(pool="min")]), "pooling must be one of"),
        (ArchSpec(blocks=[ConvBlock(kernel_size=2.5)]), "whole number, got 2.5"),
        (ArchSpec(dropout=1.0), "dropout"),
        (ArchSpec(dense=-1), "dense width"),
    ],
)
def test_bad_settings_are_explained(spec, match):
    """Settings that are wrong at any image size raise a plain-English ValueError."""
    with pytest.raises(ValueError, match=match):
        layer_shapes(spec)


def test_dict_round_trip_through_json():
    """to_dict/from_dict survive JSON and give an equal spec."""
    for spec in NAMED_ARCHS.values():
        assert ArchSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_from_dict_names_unknown_settings():
    """A typo in an architecture file is named, with the known settings."""
    with pytest.raises(ValueError, match="unknown architecture setting.*dropuot"):
        ArchSpec.from_dict({"blocks": [], "dropuot": 0.5})
    with pytest.raises(ValueError, match="unknown block 1 setting.*filter"):
        ArchSpec.from_dict({"blocks": [{"filter": 8}]})
    with pytest.raises(ValueError, match="'blocks' list"):
        ArchSpec.from_dict({"dense": 10})


@pytest.mark.parametrize("settings, match", [
    ({"dropout": None}, "'dropout' must be a number, got null"),
    ({"dropout": "0.5"}, "'dropout' must be a number, got \"0.5\""),
    ({"batch_norm": "yes"}, "'batch_norm' must be true or false, got \"yes\""),
    ({"batch_norm": 1}, "'batch_norm' must be true or false, got 1"),
    ({"dense": 12.5}, "'dense' must be a whole number, got 12.5"),
    ({"dense": True}, "'dense' must be a whole number, got true"),
    ({"blocks": [{"filters": "8"}]}, "block 1 setting 'filters' must be a whole"),
    ({"blocks": [{"pool": 2}]}, "block 1 setting 'pool' must be a string, got 2"),
])
def test_from_dict_names_a_setting_of_the_wrong_type(settings, match):
    """A JSON value of the wrong type is refused, naming the setting and the value."""
    with pytest.raises(ValueError, match=match):
        ArchSpec.from_dict({"blocks": [{}], **settings})


@pytest.mark.parametrize("spec, match", [
    (ArchSpec(dropout=None), "dropout must be a number .* got None"),
    (ArchSpec(batch_norm="yes"), "batch norm must be on or off"),
])
def test_layer_shapes_refuses_settings_of_the_wrong_type(spec, match):
    """A spec built in code with a wrong type gets a ValueError, not a TypeError."""
    with pytest.raises(ValueError, match=match):
        layer_shapes(spec)


@pytest.mark.parametrize("settings, match", [
    ({"num_classes": 5}, "'num_classes' is 5, .* 10 classes: it must be 10"),
    ({"in_channels": 3}, "'in_channels' is 3, .* greyscale .* it must be 1"),
    ({"input_size": 14}, "'input_size' is 14, .* 28x28 .* it must be 28"),
])
def test_arch_files_must_fit_mnist(tmp_path, settings, match):
    """An --arch file for other images or classes says what ConvLab reads."""
    path = tmp_path / "arch.json"
    path.write_text(json.dumps({"blocks": [{}], **settings}))
    with pytest.raises(ValueError, match=match):
        load_arch(path)


def test_load_arch_by_name_and_file(tmp_path):
    """--arch takes a name or a JSON file and explains anything else."""
    assert load_arch("sample") == NAMED_ARCHS["sample"]
    assert load_arch("sample") is not NAMED_ARCHS["sample"]
    spec = ArchSpec(blocks=[ConvBlock(4, 3, pool="avg")], dense=16)
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(spec.to_dict()))
    assert load_arch(str(path)) == spec
    with pytest.raises(ValueError, match="neither an architecture name"):
        load_arch("nonexistent")
    path.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read architecture file arch.json"):
        load_arch(path)


def test_build_is_reproducible_and_round_trips_config():
    """The same seed gives the same weights; from_config rebuilds the same network."""
    spec = NAMED_ARCHS["deep"]
    a = build(spec, np.random.default_rng(9))
    b = build(spec, np.random.default_rng(9))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    assert nn.from_config(a.get_config()).get_config() == a.get_config()


blocks_strategy = st.builds(
    ConvBlock, filters=st.integers(1, 3), kernel_size=st.integers(1, 6),
    stride=st.integers(1, 3), padding=st.integers(0, 2),
    pool=st.sampled_from(["max", "avg", "none"]), pool_size=st.integers(1, 4))


@settings(max_examples=40, deadline=None)
@given(blocks=st.lists(blocks_strategy, min_size=1, max_size=3),
       batch_norm=st.booleans(), dense=st.integers(0, 5), input_size=st.integers(4, 16))
def test_layer_shapes_agree_with_the_network_or_explain(blocks, batch_norm, dense,
                                                        input_size):
    """For any editor settings: either a clear ValueError or the exact output shapes."""
    spec = ArchSpec(blocks=blocks, batch_norm=batch_norm, dense=dense,
                    input_size=input_size, num_classes=3)
    try:
        shapes = layer_shapes(spec)
    except ValueError as exc:
        assert "does not fit" in str(exc) and "out = (" in str(exc)
        return
    net = build(spec, np.random.default_rng(0))
    outputs = net.activations(np.zeros((1, 1, input_size, input_size), np.float32))
    assert [shape for _, shape in shapes] == [out.shape[1:] for out in outputs]


def test_arch_of_recovers_the_spec_of_built_networks():
    """arch_of gives back the ArchSpec a network was built from, None for others."""
    rng = np.random.default_rng(0)
    for name, spec in NAMED_ARCHS.items():
        assert arch_of(build(spec, rng)) == spec, name
    odd = nn.Sequential(nn.Flatten(), nn.Linear(784, 10, rng=rng))
    assert arch_of(odd) is None


def test_arch_of_reads_every_pooling_kind():
    """Average, max and no pooling, each with its window size, come back as built."""
    spec = ArchSpec([ConvBlock(4, 3, pool="avg", pool_size=3),
                     ConvBlock(6, 3, padding=1, pool="none"),
                     ConvBlock(8, 2, stride=2, pool="max")], dense=0, dropout=0.25)
    assert arch_of(build(spec, np.random.default_rng(0))) == spec


def test_arch_of_refuses_a_network_build_cannot_make():
    """A conv network with an extra layer build never adds is not described."""
    rng = np.random.default_rng(0)
    net = build(NAMED_ARCHS["tiny"], rng)
    extra = nn.Sequential(*net.layers[:2], nn.ReLU(), *net.layers[2:])
    assert arch_of(extra) is None


def test_check_fits_mnist_explains_a_network_for_other_images():
    """Networks that do not map a 28x28 digit to 10 scores are refused, saying why."""
    rng = np.random.default_rng(0)
    check_fits_mnist(build(NAMED_ARCHS["tiny"], rng))  # a digit network passes
    five = build(ArchSpec([ConvBlock(4, 3)], dense=8, num_classes=5), rng)
    with pytest.raises(ValueError, match="not 10 digit scores"):
        check_fits_mnist(five)
    wide = nn.Sequential(nn.Flatten(), nn.Linear(100, 10, rng=rng))
    with pytest.raises(ValueError, match="cannot read 28x28 digits"):
        check_fits_mnist(wide)
