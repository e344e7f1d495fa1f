"""Encoders of generated batches, one per output format, all streaming chunk by chunk.

Each encoder gets the batch's header (names, units, report) first, then the
chunks of events in order, and yields bytes as it goes, so memory is bounded by
one chunk whatever the batch size. The report travels inside every format:

- ``json``: ``{"model", ..., "report", "features": [[...]], "conditions": [[...]]}``
  (orjson, rows of ``features`` then of ``conditions``);
- ``npz`` (alias ``npy``, its earlier name): an ``.npz`` archive (zip, stored) with
  ``features`` (N, F) float32, ``conditions`` (N, C) float64, the names and units,
  and ``report``/``meta`` as 0-d bytes arrays of JSON (loadable with
  ``allow_pickle=False``);
- ``arrow``: an Arrow IPC stream of the artefact's output columns, the report
  and header in the schema metadata;
- ``root``: a ROOT file of the artefact's output columns (the layout of
  ``hepgan generate``) with the report as TObjString ``report``; uproot needs a
  seekable file, so it is written to a temporary file and streamed from there once
  complete: its first byte waits for the whole file, which is why a request for more
  than ``HEPGAN_ROOT_MAX_BUFFERED_BYTES`` of ROOT is refused before it starts.
"""

from __future__ import annotations

import functools
import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from hepgan.service.npy_bytes import npy_bytes
from hepgan.service.schemas import BatchHeader
from hepgan.service.stored_zip import stored_zip

# (features (n, F), conditions (n, C)) -> the artefact's output columns, name -> (n,) or (n, K)
ColumnsFunction = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]

FILE_BLOCK_BYTES = 1 << 20
# An npz body held whole is written in one piece up to this many bytes of events (2,184
# showers of 120 voxels): the one-piece writer saves small bodies zipfile's fixed costs, and
# larger ones go through zipfile as the stream does, with no more copies than it makes.
ONE_PIECE_NPZ_BYTES = 1 << 20


def dumps(value: Any) -> bytes:
    """JSON bytes via orjson; NumPy arrays and scalars are written natively (NaN -> null)."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


def _rows(array: np.ndarray) -> bytes:
    """``[[..], [..]]`` of a (n, K) array without the outer brackets."""
    return dumps(np.ascontiguousarray(array))[1:-1]


class _ByteSink(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken out after each write."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def write(self, data: bytes) -> int:  # type: ignore[override]
        data = bytes(data)  # len() of a multi-dimensional memoryview counts rows, not bytes
        self._parts.append(data)
        self._position += len(data)
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


class StreamEncoder:
    """Base class: ``begin()``, ``add(features, conditions)`` per chunk, ``finish(...)``."""

    media_type = "application/octet-stream"
    suffix = ""
    # A small batch is encoded in well under a millisecond (so on the event loop is fine).
    quick_for_small_batches = True

    def __init__(self, header: BatchHeader, columns: ColumnsFunction, tree: str) -> None:
        self.header = header
        self._columns = columns
        self._tree = tree
        self._sink = _ByteSink()  # for writers that want a file object

    def begin(self) -> bytes:
        return b""

    def add(self, features: np.ndarray, conditions: np.ndarray) -> bytes:
        raise NotImplementedError

    def finish(self, condition_chunks: Iterable[np.ndarray]) -> Iterator[bytes]:
        """The rest of the body; ``condition_chunks`` replays the conditions chunk by chunk."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what an unfinished stream holds (the client went away)."""

    def whole(self, chunks: Sequence[tuple[np.ndarray, np.ndarray]]) -> bytes:
        """The body of a batch held whole in memory, (features (n, F), conditions (n, C))
        chunk by chunk, in one piece: the same bytes as the stream."""
        try:
            parts = [self.begin()]
            parts += [self.add(features, conditions) for features, conditions in chunks]
            parts += self.finish(conditions for _, conditions in chunks)
            return b"".join(parts)
        finally:
            self.close()


class JsonEncoder(StreamEncoder):
    """The header and the report first, then the events: the web page reads the head only
    (``service/page/api.js``, up to the first top-level ``,"features":[``)."""

    media_type = "application/json"
    suffix = ".json"

    def __init__(self, header: BatchHeader, columns: ColumnsFunction, tree: str) -> None:
        super().__init__(header, columns, tree)
        self._first = True

    def begin(self) -> bytes:
        head = dumps({**self.header.meta(), "report": self.header.report})
        return head[:-1] + b',"features":['

    def add(self, features: np.ndarray, conditions: np.ndarray) -> bytes:
        separator, self._first = (b"" if self._first else b","), False
        return separator + _rows(features)

    def finish(self, condition_chunks: Iterable[np.ndarray]) -> Iterator[bytes]:
        yield b'],"conditions":['
        for index, conditions in enumerate(condition_chunks):
            yield (b"," if index else b"") + _rows(conditions)
        yield b"]}"


@functools.lru_cache(maxsize=256)
def _stringsnpy_bytes(strings: tuple[str, ...]) -> bytes:
    """The .npy bytes of a model's names or units: the same for all its batches, so kept."""
    return npy_bytes(np.asarray(strings, dtype=np.str_))


class NpzEncoder(StreamEncoder):
    media_type = "application/x-npz"
    suffix = ".npz"

    def __init__(self, header: BatchHeader, columns: ColumnsFunction, tree: str) -> None:
        super().__init__(header, columns, tree)
        self._zip: zipfile.ZipFile | None = None  # the stream's archive, opened by begin()
        self._entry: Any = None

    def _open_array(self, name: str, dtype: np.dtype, shape: tuple[int, ...]) -> None:
        self._entry = self._zip.open(f"{name}.npy", mode="w", force_zip64=True)
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
        np.lib.format.write_array_header_2_0(self._entry, {**header, "shape": shape})

    def _small_members(self) -> list[tuple[str, bytes]]:
        """The members before the events: names, units, meta and report (.npy bytes)."""
        header = self.header
        members = [
            (f"{name}.npy", _stringsnpy_bytes(tuple(getattr(header, name))))
            for name in ("feature_names", "feature_units", "condition_names", "condition_units")
        ]
        members.append(("meta.npy", npy_bytes(np.asarray(dumps(header.meta()), dtype=np.bytes_))))
        members.append(("report.npy", npy_bytes(np.asarray(dumps(header.report), dtype=np.bytes_))))
        return members

    def whole(self, chunks: Sequence[tuple[np.ndarray, np.ndarray]]) -> bytes:
        """The archive in one piece: for at most :data:`ONE_PIECE_NPZ_BYTES` of events, the
        same members as the stream written by :func:`~hepgan.service.stored_zip.stored_zip`
        (a few copies of a small body, none of zipfile's per-member objects); larger
        batches take the stream's path."""
        features = [chunk[0] for chunk in chunks]
        conditions = [chunk[1] for chunk in chunks]
        if sum(array.nbytes for array in features + conditions) > ONE_PIECE_NPZ_BYTES:
            return super().whole(chunks)
        return stored_zip(
            [
                *self._small_members(),
                ("features.npy", npy_bytes(np.concatenate(features).astype("<f4", copy=False))),
                ("conditions.npy", npy_bytes(np.concatenate(conditions).astype("<f8", copy=False))),
            ]
        )

    def begin(self) -> bytes:
        header = self.header
        self._zip = zipfile.ZipFile(self._sink, mode="w", compression=zipfile.ZIP_STORED)
        for name, npy in self._small_members():
            self._zip.writestr(name, npy)
        shape = (header.n_events, len(header.feature_names))
        self._open_array("features", np.dtype("<f4"), shape)
        return self._sink.take()

    def add(self, features: np.ndarray, conditions: np.ndarray) -> bytes:
        self._entry.write(np.ascontiguousarray(features, dtype="<f4").data)
        return self._sink.take()

    def finish(self, condition_chunks: Iterable[np.ndarray]) -> Iterator[bytes]:
        self._entry.close()
        self._open_array(
            "conditions", np.dtype("<f8"), (self.header.n_events, len(self.header.condition_names))
        )
        for conditions in condition_chunks:
            self._entry.write(np.ascontiguousarray(conditions, dtype="<f8").data)
            yield self._sink.take()
        self._entry.close()
        self._zip.close()
        yield self._sink.take()

    def close(self) -> None:
        """Close an abandoned archive quietly: its open entry's size no longer matches the
        header's, and ZipFile.__del__ would print "Exception ignored" for each one."""
        if self._zip is None or self._zip.fp is None:  # never begun, or finished
            return
        self._zip.fp = None  # the sink's bytes go nowhere: no central directory to write
        self._zip.close()


class ArrowEncoder(StreamEncoder):
    media_type = "application/vnd.apache.arrow.stream"
    suffix = ".arrows"
    quick_for_small_batches = False  # the first batch imports pyarrow: a fraction of a second

    def __init__(self, header: BatchHeader, columns: ColumnsFunction, tree: str) -> None:
        super().__init__(header, columns, tree)
        self._writer: Any = None

    def _record_batch(self, columns: dict[str, np.ndarray]) -> Any:
        import pyarrow as pa

        arrays = {}
        for name, values in columns.items():
            values = np.ascontiguousarray(values)
            if values.ndim == 2:  # (n, K) -> fixed-size lists of K
                flat = pa.array(values.reshape(-1))
                arrays[name] = pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
            else:
                arrays[name] = pa.array(values)
        return pa.RecordBatch.from_pydict(arrays)

    def add(self, features: np.ndarray, conditions: np.ndarray) -> bytes:
        import pyarrow as pa

        batch = self._record_batch(self._columns(features, conditions))
        if self._writer is None:
            metadata = {"report": dumps(self.header.report), "meta": dumps(self.header.meta())}
            schema = batch.schema.with_metadata(metadata)
            self._writer = pa.ipc.new_stream(pa.PythonFile(self._sink, mode="w"), schema)
        self._writer.write_batch(batch)
        return self._sink.take()

    def finish(self, condition_chunks: Iterable[np.ndarray]) -> Iterator[bytes]:
        self._writer.close()
        yield self._sink.take()


class RootEncoder(StreamEncoder):
    media_type = "application/x-root"
    suffix = ".root"
    quick_for_small_batches = False  # uproot writes a whole file: milliseconds for one event

    def __init__(self, header: BatchHeader, columns: ColumnsFunction, tree: str) -> None:
        super().__init__(header, columns, tree)
        self._folder = Path(tempfile.mkdtemp(prefix="hepgan-root-"))
        self._file: Any = None

    def add(self, features: np.ndarray, conditions: np.ndarray) -> bytes:
        import uproot

        columns = {
            name: np.ascontiguousarray(values)
            for name, values in self._columns(features, conditions).items()
        }
        if self._file is None:
            self._file = uproot.recreate(self._folder / "batch.root")
            # mktree, not assignment: since uproot 5.7 assignment writes an RNTuple.
            branch_types = {
                name: (values.dtype, values.shape[1:]) for name, values in columns.items()
            }
            self._file.mktree(self._tree, branch_types)
        self._file[self._tree].extend(columns)
        return b""

    def finish(self, condition_chunks: Iterable[np.ndarray]) -> Iterator[bytes]:
        self._file["model"] = self.header.model  # as hepgan generate writes it
        self._file["report"] = dumps(self.header.report).decode()
        self._file["meta"] = dumps(self.header.meta()).decode()
        self._file.close()
        try:
            with open(self._folder / "batch.root", "rb") as handle:
                while block := handle.read(FILE_BLOCK_BYTES):
                    yield block
        finally:
            self.close()

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        shutil.rmtree(self._folder, ignore_errors=True)


ENCODERS: dict[str, type[StreamEncoder]] = {
    "json": JsonEncoder,
    "npz": NpzEncoder,
    "arrow": ArrowEncoder,
    "root": RootEncoder,
}
