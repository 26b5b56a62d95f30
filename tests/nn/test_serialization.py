"""Model files: round trips, resuming, clear errors for bad files, atomic writes."""

import io
import json
import os
import zipfile

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


def npy_header(shape, descr="<f4"):
    """The header of a .npy file declaring ``shape``, without any of its data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def replace_member(path, name, data):
    """Rewrite the model file with the raw bytes ``data`` as its member ``name``."""
    with np.load(path) as archive:
        entries = {key: archive[key] for key in archive.files}
    entries.pop(name.removesuffix(".npy"), None)
    np.savez(path, **entries)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(name, data)


def set_layer(index, **settings):
    """A damage that changes settings of layer ``index`` in the architecture."""
    def change(entries):
        arch = json.loads(str(entries["architecture"]))
        arch["layers"][index].update(settings)
        entries["architecture"] = np.array(json.dumps(arch))
    return change


def set_entry(name, value):
    return lambda entries: entries.update({name: value})


def with_nan(name, value=np.nan):
    """A damage that puts ``value`` into the first number of state entry ``name``."""
    def change(entries):
        array = entries[name].copy()
        array.flat[0] = value
        entries[name] = array
    return change


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
         "not a complete .npz archive.*truncated"),
        (lambda p: p.write_bytes(b"\x00" * 100 + p.read_bytes()[100:]),
         r"damaged .npz archive \(Bad magic number"),
        (lambda p: p.write_text("hello, I am not a model"),
         r"not a .npz \(zip\) archive"),
        (lambda p: p.write_bytes(b""), r"not a .npz \(zip\) archive"),
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
        (lambda p: rewrite(p, lambda e: e.pop("format_version")),
         "'format_version' entry is missing"),
        (lambda p: rewrite(p, set_entry("architecture", np.array("[1, 2]"))),
         "'architecture' entry is not a JSON object"),
        (lambda p: rewrite(p, set_entry("architecture", np.array(7))),
         "'architecture' entry is not a JSON object"),
        (lambda p: rewrite(p, set_entry(
            "architecture", np.array("[" * 100_000 + "]" * 100_000))),
         "'architecture' entry is not valid JSON"),
        (lambda p: replace_member(p, "state/0.weight.npy",
                                  npy_header((25_000_000_000,)) + bytes(64)),
         r"entry 'state/0.weight.npy' declares 25,000,000,000 values of float32 "
         r"\(100,000,000,000 bytes\) but holds only 64 bytes"),
        (lambda p: replace_member(p, "state/0.bias", b"not an array"),
         "entry 'state/0.bias' is not a NumPy array"),
        (lambda p: rewrite(p, set_entry("state/0.bias",
                                        np.array([None] * 32, dtype=object))),
         "'state/0.bias.npy' holds Python objects"),
        (lambda p: rewrite(p, set_entry("state/0.bias", np.array(["a"] * 32))),
         r"entry '0.bias' \(layer 0\) holds <U1 values instead of floats"),
        (lambda p: rewrite(p, with_nan("state/3.weight")),
         r"entry '3.weight' \(layer 3\) holds NaN or infinite values"),
        (lambda p: rewrite(p, with_nan("state/0.bias", np.inf)),
         r"entry '0.bias' \(layer 0\) holds NaN or infinite values"),
        (lambda p: rewrite(p, with_nan("optimizer/momentum_buffer.1")),
         "optimizer entry 'momentum_buffer.1' holds NaN or infinite values"),
        (lambda p: rewrite(p, set_entry("optimizer/momentum_buffer.1",
                                        np.array(["x"] * 32))),
         "optimizer entry 'momentum_buffer.1' holds <U1 values instead of floats"),
    ],
    ids=["truncated", "corrupt-header", "text", "empty", "npy", "foreign-npz",
         "missing-key", "wrong-shape", "arch-mismatch", "bad-json", "unknown-layer",
         "optimizer-shape", "int-weights", "bad-step", "newer-format",
         "no-version", "arch-list", "arch-number", "arch-deep", "huge-header",
         "raw-member", "object-weights", "string-weights",
         "nan-weight", "inf-bias", "nan-optimizer", "string-optimizer"],
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


def test_negative_batch_norm_variance_is_refused(tmp_path, rng):
    """A BatchNorm running variance below zero (sqrt would give NaN) is refused."""
    path = tmp_path / "model.npz"
    nn.save_model(path, build(SMALL_BN, rng))
    rewrite(path, with_nan("state/1.running_var", -0.5))
    with pytest.raises(nn.ModelFileError,
                       match=r"entry '1.running_var' \(layer 1\) holds negative"):
        nn.load_model(path)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (set_entry("architecture",
                   np.array('{"type": "Sequential", "layers": [5]}')),
         "architecture is not understood.*must be a dict"),
        (set_layer(0, out_channels=10**7, in_channels=10**7),
         r"its architecture declares 900,000,010,\d{3},\d{3} weights and statistics, "
         r"more than the 250,000,000 ConvLab opens"),
        (set_layer(0, in_channels=float("inf")),
         "architecture is not understood.*infinity"),
        (set_layer(7, in_features=5000, out_features=1000),
         r"its architecture declares 5,\d{3},\d{3} weights and statistics but the "
         r"file holds only \d{3},\d{3}"),
        (set_entry("architecture", np.array(json.dumps(
            {"type": "Sequential", "layers": [{"type": "ReLU"}] * 100_000}))),
         "its architecture has 100,000 layers, more than the 1,000"),
    ],
    ids=["bad-layer", "huge-conv", "infinite-size", "without-weights",
         "too-many-layers"],
)
def test_hostile_architecture_is_refused_before_building(saved, change, match,
                                                          monkeypatch):
    """An architecture too big, or bigger than the weights held, is never built."""
    path, net = saved
    rewrite(path, change)
    built = []
    monkeypatch.setattr(nn.layers.Linear, "reset_parameters",
                        lambda self, rng: built.append(self))
    with pytest.raises(nn.ModelFileError, match=match) as info:
        nn.load_model(path)
    assert str(info.value).startswith("Cannot load model file 'model.npz': ")
    assert "save the model again" in str(info.value)
    assert not any(layer.weight.data.size > 10**6 for layer in built)


def test_zip_bomb_is_refused_without_unpacking(saved):
    """A small file whose entry inflates to 128 MiB of zeros is refused unread."""
    path, net = saved
    size = 128 * 2**20
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("padding.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            member.write(npy_header((size,), "|u1"))
            chunk = bytes(2**20)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    assert path.stat().st_size < 2 * 2**20
    with pytest.raises(nn.ModelFileError, match=r"would unpack to [\d,]+ "
                       r"bytes from a file of [\d,]+ bytes.*exhaust memory"):
        nn.load_model(path)


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


def test_save_removes_a_killed_saves_temporary(saved):
    """A temporary left by a save that was killed is removed at the next save."""
    path, net = saved
    stale = path.parent / f".{path.name}.k1ll3d00.tmp"
    stale.write_bytes(b"x" * 1000)
    os.utime(stale, (0, 0))
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
