"""The command line: ``convlab gui | train | evaluate | download | export | bench``.

Exit codes: 0 success; 2 the command asks for something impossible (bad option or
value, missing file or folder, unknown architecture, an output that cannot be written);
1 something failed while running (a damaged data or model file, training diverged, a
download failed); 130 interrupted by Ctrl+C or SIGTERM (during training a checkpoint
was saved). Errors are one line on stderr, never a traceback, and no output file is
ever left half-written (every file is written to a temporary name and renamed).

Importing this module is quick and loads no NumPy: the heavy imports happen inside
``main()``, where a Ctrl+C during start-up is caught like any other.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from convlab import __version__
from convlab.fileio import write_text_atomic

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_LR = 1e-3


class CliError(Exception):
    """A failure to report as one line and an exit code, without a traceback."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, like every other error of the command line."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} "
                              "--help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="convlab",
        description="ConvLab: a teaching lab for convolutional networks, in NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"convlab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # The window's own options (see `convlab gui --help`) are passed through to it.
    gui = commands.add_parser(
        "gui", add_help=False,
        help="open the window: 'gui [--model FILE] [--data DIR]' (see 'gui --help')",
    )
    gui.set_defaults(run=cmd_gui)

    train = commands.add_parser(
        "train", help="train a network and save it as a model file",
        description="Train a network on MNIST (or the built-in generated digits).",
    )
    train.add_argument("--data", default=None, metavar="DIR|builtin",
                       help="folder with the four MNIST files, or 'builtin' for "
                            "generated digits (default: $CONVLAB_DATA, then the cache)")
    train.add_argument("--epochs", type=_positive_int, default=None,
                       help="passes over the training set (default 5)")
    train.add_argument("--batch-size", type=_positive_int, default=64)
    train.add_argument("--lr", type=_positive_float, default=None,
                       help=f"learning rate (default {DEFAULT_LR:g}; with --resume, "
                            "the checkpoint's unless given)")
    train.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    train.add_argument("--momentum", type=_non_negative_float, default=0.9,
                       help="SGD momentum")
    train.add_argument("--weight-decay", type=_non_negative_float, default=0.0)
    train.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                       help="learning-rate schedule (cosine decays it to 0)")
    train.add_argument("--arch", default="sample", metavar="FILE|NAME",
                       help="a named architecture or a JSON architecture file "
                            "(default: sample)")
    train.add_argument("--augment", action="store_true",
                       help="randomly shift, rotate and scale training digits")
    train.add_argument("--clean-epochs", type=_non_negative_int, default=0,
                       metavar="N",
                       help="with --augment: the last N epochs train on the digits "
                            "as they are (default 0)")
    train.add_argument("--generated", type=_non_negative_int, default=0, metavar="N",
                       help="add N generated digits to the training images "
                            "(default 0; the test images stay as they are)")
    train.add_argument("--val-fraction", type=_fraction, default=0.1,
                       help="share of training images held out for validation "
                            "(default 0.1; 0 = none)")
    train.add_argument("--seed", type=_non_negative_int, default=0)
    _add_threads_option(train)
    train.add_argument("--out", required=True, metavar="FILE",
                       help="where to save the trained model (.npz)")
    train.add_argument("--checkpoint", default=None, metavar="FILE",
                       help="where Ctrl+C saves a resumable checkpoint (default: "
                            "OUT with .checkpoint.npz); when given, it is also "
                            "saved after every epoch")
    train.add_argument("--resume", default=None, metavar="FILE",
                       help="continue the run saved in this checkpoint, with its "
                            "settings (--epochs may extend it, --lr change it)")
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser(
        "evaluate", help="accuracy, per-class accuracy and confusion matrix",
        description="Evaluate a model file on a test set.",
    )
    evaluate.add_argument("--model", required=True, metavar="FILE")
    evaluate.add_argument("--data", default=None, metavar="DIR|builtin")
    evaluate.add_argument("--split", choices=("test", "train"), default="test")
    evaluate.add_argument("--json", action="store_true",
                          help="print one JSON object instead of tables")
    _add_threads_option(evaluate)
    evaluate.set_defaults(run=cmd_evaluate)

    download = commands.add_parser("download", help="download MNIST into the cache")
    download.add_argument("--dest", default=None, metavar="DIR",
                          help="folder to download into (default: the cache)")
    download.set_defaults(run=cmd_download)

    export = commands.add_parser(
        "export", help="write a model as a self-contained PyTorch file",
    )
    export.add_argument("--format", choices=("pytorch",), required=True)
    export.add_argument("--model", required=True, metavar="FILE")
    export.add_argument("--out", required=True, metavar="FILE.py")
    export.set_defaults(run=cmd_export)

    bench = commands.add_parser(
        "bench", help="benchmarks: 'bench engine|gui|explain|drawn|soak ...'",
        description="Run a benchmark; arguments after the target go to it.",
    )
    bench.add_argument("target",
                       choices=("engine", "gui", "explain", "drawn", "soak"))
    bench.add_argument("args", nargs=argparse.REMAINDER,
                       help="arguments for the benchmark (see 'bench TARGET --help')")
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``convlab`` and ``python -m convlab``; returns the exit code."""
    # SIGTERM (`kill`, a job scheduler's time limit) means the same as Ctrl+C.
    previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
    name = "convlab"
    try:
        parser = build_parser()
        args, window_args = parser.parse_known_args(argv)
        if window_args and args.command != "gui":
            parser.error(f"unrecognized arguments: {' '.join(window_args)}")
        args.window_args = window_args
        name = f"convlab {args.command}"
        from convlab.nn._malloc import keep_freed_memory

        keep_freed_memory()  # training reuses its freed arrays (see _malloc.py)
        if getattr(args, "threads", None) is None:
            return args.run(args)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=args.threads, user_api="blas"):
            return args.run(args)
    except CliError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"\n{name}: aborted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        # Point stdout at devnull so Python's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)


def cmd_gui(args) -> int:
    """`gui [--model FILE] [--data DIR] ...`: the window, as `convlab-gui` opens it."""
    from convlab.gui.app import run

    # The window is closed the way `convlab-gui`'s is: SIGTERM ends it at once
    # (the command line's SIGTERM-as-Ctrl+C is for its training runs).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return run(args.window_args, prog="convlab gui")


def cmd_train(args) -> int:
    """`train`: build (or resume) a run, train it with progress, save the model."""
    import numpy as np

    from convlab.train import TrainConfig, Trainer

    out = Path(args.out)
    checkpoint_path = Path(args.checkpoint) if args.checkpoint else _sibling(
        out, ".checkpoint.npz")
    _check_writable(out)
    _check_writable(checkpoint_path)

    if args.resume:
        checkpoint = _load_model_file(args.resume)
        config = _checkpoint_config(checkpoint, args.resume)
        dataset = _load_data(args.data, args.generated, config.seed)
        rng = np.random.default_rng(config.seed)
        train, val = _split(dataset, config.val_fraction, config.batch_size, rng)
        try:
            trainer = Trainer.from_checkpoint(checkpoint, train, val,
                                              epochs=args.epochs)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        if args.lr is not None:
            trainer.set_lr(args.lr)
    else:
        if args.clean_epochs and not args.augment:
            raise CliError("--clean-epochs goes with --augment: without it every "
                           "epoch trains on the digits as they are")
        try:
            config = TrainConfig(
                epochs=args.epochs or 5, batch_size=args.batch_size,
                lr=DEFAULT_LR if args.lr is None else args.lr,
                optimizer=args.optimizer, momentum=args.momentum,
                weight_decay=args.weight_decay, schedule=args.schedule,
                augment=args.augment, clean_epochs=args.clean_epochs,
                val_fraction=args.val_fraction, seed=args.seed,
            )
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        spec = _load_arch(args.arch)
        dataset = _load_data(args.data, args.generated, config.seed)
        # One generator for everything, consumed in a fixed order (split, then
        # weights, then the trainer) so that a resume can rebuild the same split.
        rng = np.random.default_rng(config.seed)
        train, val = _split(dataset, config.val_fraction, config.batch_size, rng)
        from convlab.nn.architectures import build

        model = build(spec, rng)
        trainer = Trainer(model, train, val, config, rng=rng)

    # Ctrl+C or SIGTERM asks the trainer to stop between steps, so the checkpoint
    # never holds a half-applied update; a second one interrupts at once. The
    # handler stays until the model is saved, so one Ctrl+C cannot lose it.
    stop = _stop_on_first_interrupt(trainer)
    previous_handlers = {signum: signal.signal(signum, stop)
                         for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _train_and_save(trainer, args, dataset.name, out, checkpoint_path)
    finally:
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)


def _train_and_save(trainer, args, data_name, out, checkpoint_path) -> int:
    """Train with progress, then save the model, or a checkpoint when stopped early."""
    from convlab import nn
    from convlab.train import TrainingDiverged

    train_images = len(trainer.x_train)
    val_images = len(trainer.val[0]) if trainer.val else 0
    print(f"Training on {train_images} images of {data_name}"
          + (f", validating on {val_images}" if val_images else "")
          + f"; {trainer.total_steps} steps. Ctrl+C saves a checkpoint.", flush=True)
    started = time.perf_counter()
    try:
        explosion = _run_with_progress(trainer,
                                       checkpoint_path if args.checkpoint else None)
    except TrainingDiverged as exc:
        raise CliError(str(exc), EXIT_FAILED) from exc
    seconds = time.perf_counter() - started

    if explosion is not None:
        # Put back the best weights there are and keep them resumable: the run up
        # to the spike may have taken a long time.
        point = trainer.restore_points()[0]
        trainer.restore(point)
        saved, _ = _save_trained(trainer.save_checkpoint, checkpoint_path, [out.parent])
        where = {"before_spike": "from before the spike",
                 "start": "from the start of the run"}[point]
        raise CliError(
            f"{explosion.message} Training stopped; the weights {where} are saved in "
            f"{saved}: continue with --resume {saved} --lr "
            f"{trainer.base_lr / 10:g}", EXIT_FAILED)

    if trainer.state == "stopped":
        saved, error = _save_trained(trainer.save_checkpoint, checkpoint_path,
                                     [out.parent])
        instead = (f" (cannot write {checkpoint_path}: {_reason(error)})" if error
                   else "")
        print(f"Interrupted after step {trainer.step}: checkpoint saved to "
              f"{saved}{instead}; continue with --resume {saved}", file=sys.stderr)
        return EXIT_INTERRUPTED

    record = {
        "config": dataclasses.asdict(trainer.config),
        # Image counts only: the data folder is a path on the trainer's machine.
        "train_images": train_images,
        "val_images": val_images,
        "seconds": round(seconds, 1),
        "epochs": [dataclasses.asdict(r) for r in trainer.epoch_results],
    }
    saved, error = _save_trained(
        lambda path: nn.save_model(path, trainer.model, extra={"training": record}),
        out, [checkpoint_path.parent])
    if error is not None:
        raise CliError(f"cannot write {out}: {_reason(error)}; the trained model is "
                       f"saved in {saved} instead", EXIT_FAILED)
    print(f"Saved {out} after {seconds:.0f} s. Evaluate it with: "
          f"python -m convlab evaluate --model {out}"
          + (f" --data {args.data}" if args.data else ""))
    return EXIT_OK


def _run_with_progress(trainer, checkpoint_path=None):
    """Consume trainer.steps() with a progress bar per epoch and a line after each;
    with checkpoint_path, also save a checkpoint at the end of every epoch.

    Returns the "exploded" Alarm that ended the run early, or None. A "stalled"
    alarm is printed as a warning and training goes on.
    """
    from tqdm import tqdm

    # In a log file every refresh is a new line: refresh rarely there.
    refresh_seconds = 0.1 if sys.stderr.isatty() else 30.0
    bar = None
    loss_sum = correct = seen = 0.0
    try:
        for result in trainer.steps():
            if bar is None:
                bar = tqdm(total=result.batches_per_epoch, initial=result.batch - 1,
                           desc=f"epoch {result.epoch}/{trainer.config.epochs}",
                           unit="batch", leave=False, dynamic_ncols=True,
                           mininterval=refresh_seconds)
            if result.alarm is not None:
                if result.alarm.kind == "exploded":
                    return result.alarm
                # tqdm.write clears the bar first, so the line is not glued to it.
                tqdm.write(f"warning: {result.alarm.message}", file=sys.stderr)
            # Running means over the epoch read better than one noisy batch.
            loss_sum += result.loss
            correct += result.accuracy
            seen += 1
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}",
                            acc=f"{correct / seen:.4f}",
                            img_s=f"{result.images_per_sec:.0f}", refresh=False)
            bar.update(1)
            if result.epoch_result is not None:
                bar.close()
                bar = None
                loss_sum = correct = seen = 0.0
                print(_epoch_line(result.epoch_result, trainer.config.epochs,
                                  result.images_per_sec, result.lr), flush=True)
                if checkpoint_path is not None:
                    try:
                        trainer.save_checkpoint(checkpoint_path)
                    except OSError as exc:
                        # Only a safety copy: the run itself is fine, so go on.
                        tqdm.write(f"warning: cannot write {checkpoint_path}: "
                                   f"{_reason(exc)}; training goes on",
                                   file=sys.stderr)
    finally:
        # Also when training fails: the error line must not be glued to the bar.
        if bar is not None:
            bar.close()
    return None


def _epoch_line(epoch, epochs, images_per_sec, lr):
    line = (f"epoch {epoch.epoch}/{epochs}: train loss {epoch.train_loss:.4f} "
            f"acc {epoch.train_acc:.4f}")
    if epoch.val_acc is not None:
        line += f" | val loss {epoch.val_loss:.4f} acc {epoch.val_acc:.4f}"
    return line + f" | lr {lr:.3g} | {images_per_sec:.0f} img/s"


def _stop_on_first_interrupt(trainer):
    def handler(signum, frame):
        # Nothing is printed here: a print could interrupt the progress bar's own
        # write. The step ends within moments and the message follows then.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.default_int_handler)
        trainer.stop()
    return handler


def _split(dataset, val_fraction, batch_size, rng):
    """(train, val) tuples; val is None when val_fraction is 0. Refuses a split that
    leaves less than one batch of training images."""
    if val_fraction <= 0:
        return (dataset.x_train, dataset.y_train), None
    from convlab.data.batching import train_val_split

    x_tr, y_tr, x_val, y_val = train_val_split(
        dataset.x_train, dataset.y_train, val_fraction, rng)
    total = len(dataset.x_train)
    if len(x_tr) < batch_size:
        # train_val_split holds out round(total * fraction) images.
        largest = math.floor((total - batch_size) / total * 1000) / 1000
        allowed = (f"use at most {largest:g}" if largest > 0 else
                   "use 0 (no validation) or a smaller --batch-size")
        raise CliError(f"--val-fraction {val_fraction:g} leaves {len(x_tr)} of "
                       f"{total} images for training, less than one batch of "
                       f"{batch_size}; {allowed}")
    return (x_tr, y_tr), (x_val, y_val)


def _load_arch(arch: str):
    from convlab.nn.architectures import load_arch

    try:
        return load_arch(arch)
    except ValueError as exc:
        raise CliError(f"--arch {arch}: {_one_line(exc)}") from exc


def _checkpoint_config(checkpoint, path):
    from convlab.train import resume_config

    try:
        return resume_config(checkpoint)
    except ValueError as exc:
        raise CliError(f"cannot resume from {path}: {exc}") from exc


def cmd_evaluate(args) -> int:
    """`evaluate`: accuracy, per-class accuracy and confusion matrix of a model."""
    from convlab.evaluation import evaluate

    checkpoint = _load_model_file(args.model)
    dataset = _load_data(args.data)
    x, y = ((dataset.x_test, dataset.y_test) if args.split == "test"
            else (dataset.x_train, dataset.y_train))
    try:
        metrics = evaluate(checkpoint.model, x, y)
    except ValueError as exc:   # e.g. a model built for other image sizes
        raise CliError(f"{args.model} cannot read these images: {exc}",
                       EXIT_FAILED) from exc
    loss = metrics["loss"]
    if args.json:
        # JSON has no NaN or infinity: a loss that is not finite (a model whose
        # weights blew up) and the accuracy of a class absent from the data are
        # null. allow_nan=False makes any other such number an error, never
        # invalid JSON.
        print(json.dumps({
            "model": str(args.model),
            "data": dataset.name,
            "split": args.split,
            "images": len(y),
            "accuracy": metrics["accuracy"],
            "loss": loss if math.isfinite(loss) else None,
            "per_class": [None if math.isnan(a) else float(a)
                          for a in metrics["per_class"]],
            "confusion": metrics["confusion"].tolist(),
        }, allow_nan=False))
        return EXIT_OK
    shown_loss = (f"{loss:.4f}" if math.isfinite(loss) else
                  f"{loss} (not a finite number: the model's weights or outputs "
                  "have blown up; --json reports it as null)")
    print(f"{args.model} on {len(y)} {args.split} images of {dataset.name}")
    print(f"accuracy {metrics['accuracy']:.4f} ({metrics['accuracy'] * 100:.2f}%), "
          f"loss {shown_loss}\n")
    print(_class_table(metrics))
    print()
    print(_confusion_table(metrics["confusion"]))
    return EXIT_OK


def _class_table(metrics):
    totals = metrics["confusion"].sum(axis=1)
    rows = ["class  images  accuracy"]
    for k, (total, acc) in enumerate(zip(totals, metrics["per_class"], strict=True)):
        shown = "-" if math.isnan(acc) else f"{acc:.4f}"
        rows.append(f"{k:>5}  {total:>6}  {shown:>8}")
    return "\n".join(rows)


def _confusion_table(confusion):
    width = max(5, len(str(confusion.max())) + 1)
    header = "true\\pred" + "".join(f"{k:>{width}}" for k in range(len(confusion)))
    rows = [header]
    for k, row in enumerate(confusion):
        rows.append(f"{k:>9}" + "".join(f"{n:>{width}}" for n in row))
    return "\n".join(rows)


def cmd_download(args) -> int:
    """`download`: MNIST into the cache (or --dest), with a progress bar per file."""
    from tqdm import tqdm

    from convlab.data.download import DownloadError, download_mnist

    bars = {}

    def progress(name, done, total):
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = tqdm(total=total, desc=name, unit="B", unit_scale=True,
                                    unit_divisor=1024, leave=True)
        bar.update(done - bar.n)

    try:
        folder = download_mnist(dest=args.dest, progress=progress)
    except DownloadError as exc:
        raise CliError(str(exc), EXIT_FAILED) from exc
    except OSError as exc:
        raise CliError(f"cannot write the download: {exc}", EXIT_FAILED) from exc
    finally:
        for bar in bars.values():
            bar.close()
    print(f"MNIST is ready in {folder}")
    return EXIT_OK


def cmd_export(args) -> int:
    """`export`: write the model as a self-contained PyTorch file."""
    from convlab.export import ExportError, export_pytorch

    checkpoint = _load_model_file(args.model)
    out = Path(args.out)
    _check_writable(out)
    try:
        source = export_pytorch(checkpoint.model, module=out.stem,
                                source=f"from {Path(args.model).name}")
    except ExportError as exc:
        raise CliError(str(exc), EXIT_FAILED) from exc
    _save(lambda: write_text_atomic(out, source), out)
    print(f"Wrote {out}: `from {out.stem} import build; net = build()` gives a "
          "torch.nn.Module in eval mode")
    return EXIT_OK


def cmd_bench(args) -> int:
    """`bench engine|gui|explain|drawn|soak ARGS`: hand ARGS to that benchmark's
    main()."""
    # Imported only when asked for, so the command line never loads Qt otherwise.
    module_name = {"engine": "convlab.bench.engine", "gui": "convlab.gui.bench",
                   "explain": "convlab.bench.explain", "drawn": "convlab.bench.drawn",
                   "soak": "convlab.gui.soak.run"}
    name = module_name[args.target]
    try:
        import importlib

        module = importlib.import_module(name)
    except ImportError as exc:
        raise CliError(f"the {args.target} benchmark is not available ({name}: {exc})",
                       EXIT_FAILED) from exc
    return int(module.main(args.args) or 0)


def _add_threads_option(parser):
    parser.add_argument(
        "--threads", type=_positive_int, default=1,
        help="BLAS threads for the matrix products (default 1: on a busy machine "
             "extra threads wait on each other and can make training many times "
             "slower)")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a number from 0 up to (not including) 1, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def _load_data(source, generated=0, seed=0):
    from convlab.data.mnist import DataNotFoundError, MnistFormatError
    from convlab.data.sources import load_dataset
    from convlab.data.synthetic import with_generated

    if source is not None and source != "builtin" and not Path(source).is_dir():
        raise CliError(f"--data {source}: no such folder")
    try:
        dataset = load_dataset(source)
        return with_generated(dataset, generated, seed) if generated else dataset
    except DataNotFoundError as exc:
        raise CliError(_one_line(exc)) from exc
    except (MnistFormatError, OSError) as exc:
        raise CliError(_one_line(exc), EXIT_FAILED) from exc


def _load_model_file(path):
    from convlab import nn

    if not Path(path).is_file():
        raise CliError(f"{path}: no such model file")
    try:
        return nn.load_model(path)
    except (nn.ModelFileError, OSError) as exc:
        raise CliError(f"cannot load {path}: {_one_line(exc)}", EXIT_FAILED) from exc


def _sibling(path: Path, suffix: str) -> Path:
    """model.npz -> model.checkpoint.npz (same folder)."""
    return path.with_name(path.stem + suffix)


def _check_writable(path: Path):
    """Fail before any long work when ``path`` cannot be written."""
    folder = path.parent
    if path.is_dir():
        raise CliError(f"cannot write {path}: it is a folder")
    if folder.exists() and not folder.is_dir():
        raise CliError(f"cannot write {path}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise CliError(f"cannot write {path}: folder {folder} does not exist")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise CliError(f"cannot write {path}: {_reason(exc)}") from exc


def _save(write, path):
    """Run ``write()`` (an atomic writer), turning failures into one-line errors."""
    try:
        write()
    except OSError as exc:
        raise CliError(f"cannot write {path}: {_reason(exc)}", EXIT_FAILED) from exc


def _save_trained(write, path, fallback_folders):
    """Run ``write(path)`` (an atomic writer of trained weights) without ever losing
    them: when ``path`` cannot be written (disk full, folder gone), write the same
    file name in ``fallback_folders``, a new temporary folder or the current folder.

    Returns (the path written, None), or (where it went instead, the first error).
    Raises CliError when nothing could be written anywhere.
    """
    try:
        write(path)
        return path, None
    except OSError as exc:
        error = exc
    tried = []
    for candidate in _fallback_paths(path, fallback_folders):
        tried.append(str(candidate))
        try:
            write(candidate)
            return candidate, error
        except OSError:
            continue
    raise CliError(f"cannot write {path}: {_reason(error)}; nor "
                   f"{', '.join(tried) or 'any other folder'}: the trained weights are "
                   "lost. Free some disk space or choose another --out and train "
                   "again", EXIT_FAILED)


def _fallback_paths(path, folders):
    """``path``'s file name in each of ``folders``, a new temporary folder and the
    current folder, skipping its own folder and files that exist (never overwrite)."""
    seen = {path.parent.resolve()}
    for folder in [*folders, None, "."]:
        try:
            if folder is None:   # only made when it comes to that
                folder = tempfile.mkdtemp(prefix="convlab-")
            folder = Path(folder).resolve()
        except OSError:
            continue
        candidate = folder / path.name
        if folder in seen or candidate.exists():
            continue
        seen.add(folder)
        yield candidate


def _reason(exc) -> str:
    """The OS's words for an OSError ("No space left on device"), else its text."""
    return exc.strerror or str(exc)


def _one_line(exc) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":
    sys.exit(main())
