"""read_npz reads back what np.savez wrote."""

import numpy as np
import pytest

from convlab.npz import read_npz


@pytest.mark.parametrize(
    "array",
    [np.arange(12.0).reshape(3, 4), np.asfortranarray(np.arange(6).reshape(2, 3)),
     np.zeros((0, 28, 28), np.uint8), np.array("text"), np.int64(7)],
    ids=["float", "fortran", "empty", "string", "scalar"],
)
def test_read_npz_gives_back_what_savez_wrote(tmp_path, array):
    """Every plain array kind np.savez writes reads back equal and writable."""
    np.savez(tmp_path / "a.npz", a=array)
    back = read_npz(tmp_path / "a.npz")["a"]
    assert back.dtype == array.dtype and back.shape == np.shape(array)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable
