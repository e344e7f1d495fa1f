"""An array as the bytes of a ``.npy`` file, header written directly.

``numpy.lib.format.write_array`` to a ``BytesIO`` costs about 5 us an array in checks and
file calls; a small npz body holds six arrays. The format (NEP 1, version 1.0) is the magic
``\\x93NUMPY``, the version bytes 1 0, the header length (uint16, little-endian), and the
header: the repr of ``{'descr': ..., 'fortran_order': False, 'shape': ...}`` padded with
spaces and ended by a newline so that the data start at a multiple of 64 bytes; then the
data in C order.
"""

from __future__ import annotations

import numpy as np

_MAGIC = b"\x93NUMPY\x01\x00"
_ALIGNMENT = 64
_MAX_HEADER_BYTES = 0xFFFF  # version 1.0 stores the header length in 16 bits


def npy_bytes(array: np.ndarray) -> bytes:
    """The ``.npy`` file of ``array`` (C order; no object dtype), loadable by ``numpy.load``
    with ``allow_pickle=False``."""
    array = np.asarray(array)  # tobytes() below writes C order whatever the layout
    descr = np.lib.format.dtype_to_descr(array.dtype)
    if array.dtype.hasobject or not isinstance(descr, str):
        raise ValueError(f"npy_bytes writes plain dtypes only, not {array.dtype}")
    header = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {array.shape!r}, }}"
    padding = -(len(_MAGIC) + 2 + len(header) + 1) % _ALIGNMENT
    header_bytes = (header + " " * padding + "\n").encode("latin1")
    if len(header_bytes) > _MAX_HEADER_BYTES:
        raise ValueError(f"an array of shape {array.shape} needs a version 2.0 .npy header")
    return b"".join(
        [_MAGIC, len(header_bytes).to_bytes(2, "little"), header_bytes, array.tobytes()]
    )
