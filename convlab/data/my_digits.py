"""My digits: the student's own drawings, kept in one .npz, for fine-tuning."""

import os
from pathlib import Path

import numpy as np

from convlab.fileio import write_atomic
from convlab.npz import ArchiveError, read_npz

FILE_NAME = "my_digits.npz"
FORMAT_VERSION = 1
SHAPE = (28, 28)


class MyDigitsError(Exception):
    """My digits could not be read or written; the message names the file and why."""


class MyDigits:
    """The student's digits: 28x28 float32 images in [0, 1] with labels 0-9.

    The store lives in memory; save() writes it to `folder / FILE_NAME` atomically and
    load() reads it back. A file that cannot be read is never deleted or overwritten:
    load() raises MyDigitsError and the next save() first moves the bad file aside.
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.path = self.folder / FILE_NAME
        self._images = []  # list of (28, 28) float32
        self._labels = []  # list of int
        self._unreadable = False  # the file on disk failed to load: keep it

    def __len__(self):
        return len(self._labels)

    @property
    def images(self):
        """All images, float32 (N, 28, 28) (a copy)."""
        if not self._images:
            return np.zeros((0, *SHAPE), dtype=np.float32)
        return np.stack(self._images)

    @property
    def labels(self):
        """All labels, int64 (N,) (a copy)."""
        return np.array(self._labels, dtype=np.int64)

    def add(self, image, label):
        """Add one (28, 28) image in [0, 1] with its label 0-9; returns its index."""
        image = np.asarray(image, dtype=np.float32)
        if image.shape != SHAPE:
            raise ValueError(f"a digit must be a 28x28 image, got shape {image.shape}")
        if not np.isfinite(image).all():
            raise ValueError("a digit image must not contain NaN or infinity")
        if int(label) != label or not 0 <= label <= 9:
            raise ValueError(f"a digit's label must be an integer 0-9, got {label!r}")
        self._images.append(np.clip(image, 0.0, 1.0))
        self._labels.append(int(label))
        return len(self._labels) - 1

    def extend(self, other):
        """Add every digit of other (another MyDigits) after these, as copies."""
        for image, label in zip(other.images, other.labels, strict=True):
            self.add(image, label)

    def remove(self, index):
        """Remove the digit at index (negative counts from the end, as for lists)."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"no digit {index}: My digits holds {len(self)}")
        del self._images[index]
        del self._labels[index]

    def save(self):
        """Write every digit to the file atomically; on failure memory is unchanged.

        The data goes to a temporary file in the same folder and then replaces the old
        file in one step (fileio.write_atomic), so a crash or a full disk never
        leaves half a file behind. Returns where an unreadable file was moved aside,
        or None when there was none.
        """
        aside = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if self._unreadable and self.path.exists():
                aside = self._set_aside()
            write_atomic(self.path, lambda f: np.savez(
                f,
                images=self.images,
                labels=self.labels,
                format_version=np.int64(FORMAT_VERSION),
            ))
        except OSError as err:
            raise self._save_error(err) from err
        self._unreadable = False
        return aside

    def load(self):
        """Replace the digits in memory with those in the file (none if no file).

        Raises MyDigitsError naming the file and the problem when it is corrupt,
        truncated or not a My digits file; then memory and the file stay as they were.
        """
        if not self.path.exists():
            self._images, self._labels = [], []
            return
        try:
            images, labels = _read(self.path)
        except MyDigitsError:
            self._unreadable = True
            raise
        self._images = list(images)
        self._labels = [int(label) for label in labels]
        self._unreadable = False

    def _save_error(self, err):
        """MyDigitsError with the plain reason ("Permission denied", "No space ...")."""
        why = err.strerror or str(err)
        return MyDigitsError(f"cannot save My digits to {self.path}: {why}")

    def _set_aside(self):
        """Rename the unreadable file to the first free my_digits.unreadable-K.npz
        and return that path."""
        k = 1
        while (aside := self.folder / f"my_digits.unreadable-{k}.npz").exists():
            k += 1
        os.replace(self.path, aside)
        return aside


def _read(path):
    """images float32 (N, 28, 28), labels int64 (N,) from a My digits file, checked."""

    def bad(what):
        return MyDigitsError(f"{path} is not a usable My digits file: {what}")

    try:
        data = read_npz(path)
    except ArchiveError as err:
        raise bad(str(err)) from err
    missing = {"images", "labels", "format_version"} - set(data)
    if missing:
        raise bad(f"missing {', '.join(sorted(missing))}")
    images, labels, version = data["images"], data["labels"], data["format_version"]
    if (version.shape != () or version.dtype.kind not in "iu"
            or int(version) != FORMAT_VERSION):
        raise bad(f"format version {version.tolist()!r}, expected {FORMAT_VERSION}")
    if images.ndim != 3 or images.shape[1:] != SHAPE or images.dtype.kind != "f":
        raise bad(f"images must be float (N, 28, 28), not {images.dtype}{images.shape}")
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise bad(
            f"labels must be integers (N,) with N = {len(images)} images, "
            f"got {labels.dtype} {labels.shape}"
        )
    finite = np.isfinite(images).all()
    if not finite or images.min(initial=0) < 0 or images.max(initial=0) > 1:
        raise bad("image values must lie in [0, 1]")
    if labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise bad("labels must be digits 0-9")
    return images.astype(np.float32), labels.astype(np.int64)


def mix_for_fine_tuning(store, x_base, y_base, rng, my_share=0.25, base_size=2000):
    """Training set for fine-tuning: base digits with My digits repeated in between.

    store: MyDigits (at least one digit); x_base float32 (N, 1, 28, 28), y_base (N,).
    Returns x float32 (K, 1, 28, 28), y int64 (K,), shuffled, where K = n_base + n_my,
    n_base = min(base_size, N) random base digits and My digits make up my_share of K.
    A handful of drawings would be drowned by thousands of base digits, so each is
    repeated (oversampled); the base digits stay in so the model does not forget them.
    """
    if len(store) == 0:
        raise ValueError("My digits is empty: draw and add some digits first")
    if not 0 < my_share < 1:
        raise ValueError(f"my_share must be between 0 and 1, got {my_share}")
    base = rng.choice(len(x_base), size=min(base_size, len(x_base)), replace=False)
    n_my = max(len(store), round(len(base) * my_share / (1 - my_share)))
    # Every drawing appears equally often (up to one), in a random order.
    mine = np.resize(rng.permutation(len(store)), n_my)
    x = np.concatenate([x_base[base], store.images[mine][:, None]])  # (K, 1, 28, 28)
    y = np.concatenate([np.asarray(y_base)[base], store.labels[mine]])
    order = rng.permutation(len(y))
    return x[order].astype(np.float32), y[order].astype(np.int64)

