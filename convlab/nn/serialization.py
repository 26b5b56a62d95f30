"""Model files: one .npz with the architecture as JSON, weights and optimizer state."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convlab.fileio import write_atomic
from convlab.nn import layers
from convlab.nn.module import Module, Sequential
from convlab.npz import ArchiveError, read_npz

FORMAT = "convlab-model"
FORMAT_VERSION = 1

# Layer classes from_config can build, by the "type" their get_config() writes.
LAYER_TYPES = {
    cls.__name__: cls
    for cls in (layers.Conv2d, layers.MaxPool2d, layers.AvgPool2d, layers.BatchNorm2d,
                layers.ReLU, layers.Flatten, layers.Linear, layers.Dropout)
}
# Layers whose constructor draws random numbers (initial weights, dropout masks).
_TAKES_RNG = (layers.Conv2d, layers.Linear, layers.Dropout)

_ADVICE = "Choose another file, or save the model again to replace this one."

# Limits checked before a file's network is built, so a small hostile file cannot
# make ConvLab allocate gigabytes. The largest network the architecture editor
# builds (3 blocks of 128 9x9 filters without pooling, dense 1024) has about 105
# million weights and statistics, and 20 layers.
MAX_VALUES = 250_000_000  # 1 GB as float32
MAX_LAYERS = 1000
# A network this small is cheap to build even when the file lacks its weights, and
# building it lets check_state_dict name exactly which arrays are missing.
_CHEAP_TO_BUILD = 1_000_000


class ModelFileError(ValueError):
    """A model file that cannot be loaded: corrupt, truncated or not matching."""


@dataclass
class Checkpoint:
    """What load_model returns: the model and what else the file held."""

    model: Module
    optimizer_state: dict | None = None
    step: int | None = None
    extra: dict = field(default_factory=dict)


def from_config(cfg, rng=None):
    """Build the layer or network that ``cfg`` (from ``get_config()``) describes.

    New weights are drawn from ``rng`` (an np.random.Generator; a fresh one if None).
    Raises ValueError when the description is not understood.
    """
    if not isinstance(cfg, dict) or not isinstance(cfg.get("type"), str):
        raise ValueError(
            f"a layer description must be a dict with a 'type', got {cfg!r}"
        )
    kind = cfg["type"]
    args = {key: value for key, value in cfg.items() if key != "type"}
    if kind == "Sequential":
        items = args.pop("layers", None)
        if not isinstance(items, list) or args:
            raise ValueError("a Sequential description needs exactly a 'layers' list")
        return Sequential(*(from_config(item, rng) for item in items))
    cls = LAYER_TYPES.get(kind)
    if cls is None:
        raise ValueError(
            f"unknown layer type {kind!r}; known types: Sequential, "
            + ", ".join(LAYER_TYPES)
        )
    if issubclass(cls, _TAKES_RNG):
        args["rng"] = rng
    try:
        return cls(**args)
    # TypeError: a missing or unknown argument; OverflowError: an infinite size.
    except (TypeError, OverflowError) as exc:
        raise ValueError(f"bad {kind} description {cfg!r}: {exc}") from exc


def _declared_size(cfg):
    """(values, layers): how many numbers and layers building ``cfg`` would make.

    Values are weights, biases and BatchNorm statistics, read as the layer
    constructors read their arguments; anything unreadable counts 0 here and is
    reported by from_config. Walks nested Sequentials without recursion.
    """
    values = layer_count = 0
    pending = [cfg]
    while pending:
        item = pending.pop()
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "Sequential":
            if isinstance(item.get("layers"), list):
                pending.extend(item["layers"])
            continue
        layer_count += 1
        if kind == "Conv2d":
            kh, kw = _size_pair(item.get("kernel_size"))
            values += _size(item.get("out_channels")) * (
                _size(item.get("in_channels")) * kh * kw + 1)
        elif kind == "Linear":
            values += _size(item.get("out_features")) * (
                _size(item.get("in_features")) + 1)
        elif kind == "BatchNorm2d":
            values += 4 * _size(item.get("num_features"))  # scale, shift, statistics
    return values, layer_count


def _size(value):
    """A size argument as a Python int, like the layers' int(value); 0 if unreadable."""
    try:
        return max(int(value), 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _size_pair(value):
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return _size(value[0]), _size(value[1])
    return _size(value), _size(value)


def save_model(path, model, optimizer=None, step=None, extra=None):
    """Write ``model`` (and optionally optimizer state, step, extra) to ``path``.

    The file is one .npz: "architecture" (JSON of model.get_config()), one
    "state/<name>" array per parameter and BatchNorm statistic, and for checkpoints
    "optimizer" (JSON settings) with "optimizer/<buffer>" arrays and "step".
    ``extra`` is any JSON-able dict (e.g. training metadata).

    The write is atomic (fileio.write_atomic): the data goes to a temporary file in
    the same folder which then replaces ``path`` in one step, so a crash never leaves
    half a model file.
    """
    path = Path(path)
    try:
        entries = {
            "format": np.array(FORMAT),
            "format_version": np.array(FORMAT_VERSION),
            "architecture": np.array(json.dumps(model.get_config())),
            "extra": np.array(json.dumps({} if extra is None else extra)),
        }
    except TypeError as exc:
        raise ValueError(f"extra must be a JSON-able dict: {exc}") from exc
    for name, value in model.state_dict().items():
        entries[f"state/{name}"] = value
    if optimizer is not None:
        settings = {}
        for key, value in optimizer.state_dict().items():
            if isinstance(value, np.ndarray):
                entries[f"optimizer/{key}"] = value
            else:
                settings[key] = value
        entries["optimizer"] = np.array(json.dumps(settings))
    if step is not None:
        entries["step"] = np.array(int(step))

    write_atomic(path, lambda f: np.savez(f, **entries))


def load_model(path, *, into=None):
    """Read a file written by save_model; returns a Checkpoint.

    By default a new model is built from the file's architecture. With ``into=model``
    the weights are copied into that existing model instead (in place, so optimizers
    and views keep their references); its architecture must match the file's.

    Raises ModelFileError, saying what is wrong, for a missing, corrupt, truncated or
    mismatched file. Everything is checked before any model is changed. Declared
    sizes are checked before anything is allocated (fileio.read_npz), and a network
    of more than MAX_VALUES weights and statistics or MAX_LAYERS layers, or more
    than the file holds, is refused before it is built. Weights, BatchNorm
    statistics and optimizer buffers must be finite floats.
    """
    path = Path(path)
    entries = _read_entries(path)

    def fail(problem, advice=_ADVICE):
        return _error(path, problem, advice)

    if "architecture" not in entries or _text(entries.get("format")) != FORMAT:
        raise fail("it is a NumPy archive but not a ConvLab model file "
                   "(no 'format' and 'architecture' entries)")
    version = entries.get("format_version")
    if version is None or version.shape != () or version.dtype.kind not in "iu":
        raise fail("its 'format_version' entry is missing or not a whole number")
    if int(version) > FORMAT_VERSION:
        raise fail(f"it was written in format version {int(version)} by a newer "
                   f"ConvLab; this one reads up to version {FORMAT_VERSION}",
                   "Update ConvLab to open it.")
    cfg = _json(entries, "architecture", fail)
    state = {key[len("state/"):]: value for key, value in entries.items()
             if key.startswith("state/")}
    if into is None:
        _check_buildable(cfg, state, fail)
        try:
            model = from_config(cfg)
        except ValueError as exc:
            raise fail(f"its architecture is not understood ({exc})") from exc
    else:
        model = into
        if cfg != into.get_config():
            raise fail(
                "it holds a different network from the one it should be loaded into "
                f"({_first_difference(cfg, into.get_config())})",
                "Open it as a new model, or pick a file saved from this architecture.",
            )

    for name, value in state.items():
        what = f"entry {name!r} (layer {name.partition('.')[0]})"
        _check_floats(what, value, fail)
        # BatchNorm divides by sqrt(variance + eps): a negative one gives NaN.
        if name.endswith(".running_var") and (value < 0).any():
            raise fail(f"{what} holds negative variances")
    if into is None and state:
        # Keep the file's precision (float32 normally, float64 for checks).
        model.to(np.result_type(*state.values()))
    try:
        model.check_state_dict(state)
    except ValueError as exc:
        raise fail(f"its weights do not match its architecture ({exc})") from exc

    optimizer_state = None
    if "optimizer" in entries:
        optimizer_state = _json(entries, "optimizer", fail)
        params = model.parameters()
        for key, value in entries.items():
            if not key.startswith("optimizer/"):
                continue
            name = key[len("optimizer/"):]
            index = name.rpartition(".")[2]
            if (not index.isdigit() or int(index) >= len(params)
                    or value.shape != params[int(index)].data.shape):
                raise fail(f"optimizer entry {name!r} (shape {value.shape}) does not "
                           "fit the model's parameters")
            _check_floats(f"optimizer entry {name!r}", value, fail)
            optimizer_state[name] = value
    step = None
    if "step" in entries:
        if entries["step"].shape != () or entries["step"].dtype.kind not in "iu":
            raise fail("its 'step' entry is not a whole number")
        step = int(entries["step"])
    extra = _json(entries, "extra", fail) if "extra" in entries else {}

    # Last, because it changes the model, and only once everything has been checked.
    model.load_state_dict(state)
    return Checkpoint(model=model, optimizer_state=optimizer_state, step=step,
                      extra=extra)


def _check_buildable(cfg, state, fail):
    """Refuse, before anything is allocated, a network too big to build safely."""
    values, layer_count = _declared_size(cfg)
    if layer_count > MAX_LAYERS:
        raise fail(f"its architecture has {layer_count:,} layers, more than the "
                   f"{MAX_LAYERS:,} ConvLab opens")
    if values > MAX_VALUES:
        raise fail(f"its architecture declares {values:,} weights and statistics, "
                   f"more than the {MAX_VALUES:,} ConvLab opens (the file is "
                   "damaged or not meant for ConvLab)")
    held = sum(value.size for value in state.values())
    if values > max(held, _CHEAP_TO_BUILD):
        raise fail(f"its architecture declares {values:,} weights and statistics "
                   f"but the file holds only {held:,}")


def _check_floats(what, value, fail):
    """Refuse an array that is not floats, or holds NaN or infinity."""
    if not np.issubdtype(value.dtype, np.floating):
        raise fail(f"{what} holds {value.dtype} values instead of floats")
    if not np.isfinite(value).all():
        raise fail(f"{what} holds NaN or infinite values, with which the network "
                   "could compute nothing")


def _error(path, problem, advice=_ADVICE):
    """The ModelFileError for ``path``: the file, what is wrong, what to do."""
    return ModelFileError(f"Cannot load model file '{path.name}': {problem}. {advice}")


def _read_entries(path):
    """Every array in the .npz at ``path``, read now so a damaged file fails here."""
    if not path.is_file():
        raise _error(path, f"there is no such file in {path.parent}", "Check the path.")
    try:
        return read_npz(path)
    except ArchiveError as exc:
        raise _error(path, str(exc)) from exc


def _text(entry):
    """The string inside a 0-d text array, or None if ``entry`` is not one."""
    if entry is None or entry.shape != () or entry.dtype.kind != "U":
        return None
    return str(entry)


def _json(entries, key, fail):
    text = _text(entries.get(key))
    try:
        value = json.loads(text) if text is not None else None
    except json.JSONDecodeError as exc:
        raise fail(f"its {key!r} entry is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise fail(f"its {key!r} entry is not valid JSON (nested too deeply)") from exc
    if not isinstance(value, dict):
        raise fail(f"its {key!r} entry is not a JSON object")
    return value


def _describe(cfg):
    """One layer description as text, e.g. "Linear(in_features=10, ...)"."""
    if not isinstance(cfg, dict):
        return repr(cfg)
    args = ", ".join(f"{k}={v}" for k, v in cfg.items() if k != "type")
    return f"{cfg.get('type')}({args})"


def _first_difference(file_cfg, model_cfg):
    """Where two network descriptions first differ, in words."""
    file_layers = file_cfg.get("layers")
    model_layers = model_cfg.get("layers")
    if not (isinstance(file_layers, list) and isinstance(model_layers, list)):
        return f"file: {_describe(file_cfg)}; model: {_describe(model_cfg)}"
    for i, (a, b) in enumerate(zip(file_layers, model_layers, strict=False)):
        if a != b:
            return (f"layer {i} is {_describe(a)} in the file but {_describe(b)} "
                    "in the model")
    return (f"the file has {len(file_layers)} layers, the model "
            f"{len(model_layers)}")
