"""The .npy writer of small npz bodies: numpy.load reads back every kind of array it writes,
and its bytes are numpy's own for C-ordered arrays."""

from __future__ import annotations

import io

import numpy as np
import pytest

from hepgan.service.npy_bytes import npy_bytes

ARRAYS = {
    "features": np.random.default_rng(0).random((16, 120), dtype=np.float32),
    "conditions": np.linspace(1e3, 5e4, 16)[:, None],
    "big-endian": np.arange(4, dtype=">f8"),
    "report": np.asarray(b'{"summary": {"status": "pass"}}', dtype=np.bytes_),  # 0-d
    "names": np.asarray(["voxels[0]", "incident_energy"]),
    "empty": np.zeros((0, 121), dtype=np.float32),
    "scalar": np.array(3.5),
}


@pytest.mark.parametrize("name", ARRAYS)
def test_numpy_reads_back_the_array_and_its_bytes_are_numpys(name: str) -> None:
    array = ARRAYS[name]
    written = npy_bytes(array)
    loaded = np.load(io.BytesIO(written), allow_pickle=False)
    assert loaded.dtype == array.dtype and loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)
    expected = io.BytesIO()
    np.save(expected, array, allow_pickle=False)
    assert written == expected.getvalue()
    assert written.index(b"\n") + 1 == len(written) - array.nbytes  # header ends at the data
    assert (len(written) - array.nbytes) % 64 == 0  # the data start aligned


def test_fortran_ordered_arrays_are_written_in_c_order() -> None:
    array = np.arange(6.0).reshape(2, 3).T  # F-contiguous
    loaded = np.load(io.BytesIO(npy_bytes(array)), allow_pickle=False)
    np.testing.assert_array_equal(loaded, array)


def test_object_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="plain dtypes"):
        npy_bytes(np.asarray([{"a": 1}], dtype=object))
