"""Model files: round trips, resuming, clear errors for bad files, atomic writes."""

import io
import json

import numpy as np
import pytest

from convlab import nn
from convlab.nn.architectures import NAMED_ARCHS, ArchSpec, ConvBlock, build

# Small but complete: conv, batch norm, pooling, dense; quick to train a few steps.
SMALL_BN = ArchSpec(blocks=[ConvBlock(4, 3), ConvBlock(6, 3)], batch_norm=True,
                    dense=16)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def batch(rng):
    return rng.random((8, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 8)


def train_steps(net, opt, batch, steps):
    x, y = batch
    for _ in range(steps):
        loss, dlogits = nn.softmax_cross_entropy(net.forward(x), y)
        opt.zero_grad()
        net.backward(dlogits)
        opt.step()
    return loss


def snapshot(net):
    return {name: value.copy() for name, value in net.state_dict().items()}


def assert_unchanged(net, before):
    after = net.state_dict()
    assert after.keys() == before.keys()
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value)


def test_round_trip_gives_identical_outputs(tmp_path, rng, batch):
    """A saved and loaded model (with BN statistics) gives bit-identical outputs."""
    net = build(SMALL_BN, rng)
    train_steps(net, nn.SGD(net.parameters(), lr=0.05), batch, 2)
    path = tmp_path / "model.npz"
    nn.save_model(path, net, extra={"note": "two steps"})
    checkpoint = nn.load_model(path)
    assert checkpoint.extra == {"note": "two steps"}
    assert checkpoint.optimizer_state is None and checkpoint.step is None
    loaded = checkpoint.model
    assert repr(loaded) == repr(net)
    assert loaded[1].running_mean.any()
    np.testing.assert_array_equal(loaded[1].running_var, net[1].running_var)
    np.testing.assert_array_equal(loaded.eval().forward(batch[0]),
                                  net.eval().forward(batch[0]))
    assert loaded[0].weight.data.dtype == np.float32


def test_float64_model_keeps_its_precision(tmp_path, rng):
    """A float64 model loads back as float64, with the exact same values."""
    net = build(NAMED_ARCHS["sample"], rng).to(np.float64)
    nn.save_model(tmp_path / "m.npz", net)
    loaded = nn.load_model(tmp_path / "m.npz").model
    for p, q in zip(net.parameters(), loaded.parameters(), strict=True):
        assert q.data.dtype == np.float64
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_continues_identically(tmp_path, rng, batch, optimizer):
    """Training resumed from a checkpoint matches uninterrupted training exactly."""
    def make_opt(params):
        if optimizer == "adam":
            return nn.Adam(params, lr=1e-3, weight_decay=1e-4)
        return nn.SGD(params, lr=0.05, momentum=0.9)

    net = build(SMALL_BN, rng)
    opt = make_opt(net.parameters())
    train_steps(net, opt, batch, 2)
    path = tmp_path / "checkpoint.npz"
    nn.save_model(path, net, optimizer=opt, step=2, extra={"epoch": 0})
    expected_loss = train_steps(net, opt, batch, 2)

    checkpoint = nn.load_model(path)
    assert checkpoint.step == 2 and checkpoint.extra == {"epoch": 0}
    resumed_opt = make_opt(checkpoint.model.parameters())
    resumed_opt.load_state_dict(checkpoint.optimizer_state)
    loss = train_steps(checkpoint.model, resumed_opt, batch, 2)
    assert loss == expected_loss
    for p, q in zip(net.parameters(), checkpoint.model.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_into_existing_model_in_place(tmp_path, rng):
    """load_model(into=model) copies weights into the same arrays."""
    source = build(NAMED_ARCHS["sample"], rng)
    nn.save_model(tmp_path / "m.npz", source)
    target = build(NAMED_ARCHS["sample"], np.random.default_rng(1))
    weight_ref = target[0].weight.data
    checkpoint = nn.load_model(tmp_path / "m.npz", into=target)
    assert checkpoint.model is target and target[0].weight.data is weight_ref
    np.testing.assert_array_equal(weight_ref, source[0].weight.data)


def test_mismatched_architecture_leaves_model_untouched(tmp_path, rng):
    """Loading a file of another network into a model explains and changes nothing."""
    nn.save_model(tmp_path / "bn.npz", build(NAMED_ARCHS["sample-bn"], rng))
    target = build(NAMED_ARCHS["sample"], rng)
    before = snapshot(target)
    with pytest.raises(nn.ModelFileError) as info:
        nn.load_model(tmp_path / "bn.npz", into=target)
    message = str(info.value)
    assert "bn.npz" in message and "different network" in message
    # The batch-norm variant's first conv has no bias (BatchNorm shifts instead).
    assert "layer 0 is Conv2d(" in message
    assert "bias=False) in the file but Conv2d(" in message
    assert "Open it as a new model" in message
    assert_unchanged(target, before)


def rewrite(path, change):
    """Load the entries of a model file, let change() edit them, save them back."""
    with np.load(path) as data:
        entries = {key: data[key] for key in data.files}
    change(entries)
    np.savez(path, **entries)


@pytest.fixture
def saved(tmp_path, rng):
    net = build(NAMED_ARCHS["sample"], rng)
    opt = nn.SGD(net.parameters(), lr=0.1, momentum=0.9)
    train_steps(net, opt, (rng.random((2, 1, 28, 28), dtype=np.float32),
                           np.array([1, 2])), 1)
    path = tmp_path / "model.npz"
    nn.save_model(path, net, optimizer=opt, step=1)
    return path, net


def npy_bytes():
    """A valid .npy file (one array), which is not a model archive."""
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    return buffer.getvalue()


def edit_arch(entries):
    arch = json.loads(str(entries["architecture"]))
    arch["layers"][0]["out_channels"] = 16
    entries["architecture"] = np.array(json.dumps(arch))


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
         "not a complete .npz archive.*truncated"),
        (lambda p: p.write_bytes(b"\x00" * 100 + p.read_bytes()[100:]),
         "could not be read|not a complete"),
        (lambda p: p.write_text("hello, I am not a model"), "could not be read"),
        (lambda p: p.write_bytes(b""), "could not be read|not a complete"),
        (lambda p: p.write_bytes(npy_bytes()), "single NumPy array"),
        (lambda p: np.savez(p, weights=np.zeros(3)), "not a ConvLab model file"),
        (lambda p: rewrite(p, lambda e: e.pop("state/3.weight")),
         "missing 3.weight"),
        (lambda p: rewrite(p, lambda e: e.update({"state/7.bias": np.zeros(5)})),
         r"7.bias has shape \(5,\) but the model needs \(128,\)"),
        (lambda p: rewrite(p, edit_arch),
         r"0.weight has shape \(32, 1, 3, 3\)|layer 0 is Conv2d\(in_channels=1, "
         r"out_channels=16, .* in the file but Conv2d\(in_channels=1, out_channels=32"),
        (lambda p: rewrite(p, lambda e: e.update(architecture=np.array("{oops"))),
         "'architecture' entry is not valid JSON"),
        (lambda p: rewrite(p, lambda e: e.update(
            architecture=np.array('{"type": "Conv9d"}'))),
         "Conv9d"),
        (lambda p: rewrite(p, lambda e: e.update(
            {"optimizer/momentum_buffer.0": np.zeros(2)})),
         "optimizer entry 'momentum_buffer.0'"),
        (lambda p: rewrite(p, lambda e: e.update({"state/0.bias": np.arange(32)})),
         "instead of floats"),
        (lambda p: rewrite(p, lambda e: e.update(step=np.array(1.5))),
         "'step' entry is not a whole number"),
        (lambda p: rewrite(p, lambda e: e.update(format_version=np.array(99))),
         "format version 99 by a newer ConvLab.*Update ConvLab"),
    ],
    ids=["truncated", "corrupt-header", "text", "empty", "npy", "foreign-npz",
         "missing-key", "wrong-shape", "arch-mismatch", "bad-json", "unknown-layer",
         "optimizer-shape", "int-weights", "bad-step", "newer-format"],
)
def test_bad_files_raise_clear_errors(saved, damage, match):
    """Every kind of broken file raises ModelFileError naming the file and problem."""
    path, net = saved
    damage(path)
    target = build(NAMED_ARCHS["sample"], np.random.default_rng(1))
    before = snapshot(target)
    for into in (None, target):
        with pytest.raises(nn.ModelFileError, match=match) as info:
            nn.load_model(path, into=into)
        assert str(info.value).startswith("Cannot load model file 'model.npz': ")
    assert_unchanged(target, before)


def test_missing_file_is_a_model_file_error(tmp_path):
    """A path with no file says so and names the folder."""
    with pytest.raises(nn.ModelFileError, match="no such file") as info:
        nn.load_model(tmp_path / "absent.npz")
    assert isinstance(info.value, ValueError)


def test_file_loads_without_pickle(saved):
    """The file holds plain arrays and strings: np.load(allow_pickle=False) reads it."""
    path, net = saved
    with np.load(path, allow_pickle=False) as data:
        arch = json.loads(str(data["architecture"]))
        assert arch == net.get_config()
        assert "state/0.weight" in data.files
        assert "optimizer/momentum_buffer.0" in data.files


def test_atomic_write_leaves_no_temporary_file(saved):
    """After a save the folder holds the model file and nothing else."""
    path, net = saved
    nn.save_model(path, net)
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]


def test_failed_write_keeps_the_old_file(saved, monkeypatch):
    """If writing fails midway, the old file is intact and no temporary file remains."""
    path, net = saved
    old_bytes = path.read_bytes()

    def broken_savez(file, **entries):
        file.write(b"partial data")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        nn.save_model(path, build(NAMED_ARCHS["sample"], np.random.default_rng(5)))
    assert path.read_bytes() == old_bytes
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]


def test_extra_must_be_json(tmp_path, rng):
    """Non-JSON extra data is refused before anything is written."""
    net = build(NAMED_ARCHS["tiny"], rng)
    with pytest.raises(ValueError, match="JSON"):
        nn.save_model(tmp_path / "m.npz", net, extra={"bad": object()})
    assert not list(tmp_path.iterdir())
