"""The one-piece ZIP writer of small npz bodies: read back by zipfile and numpy.load, and the
npz encoder's one-piece body holding what its stream holds."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from hepgan.service import encoders
from hepgan.service.encoders import NpzEncoder, StreamEncoder
from hepgan.service.schemas import BatchHeader
from hepgan.service.stored_zip import stored_zip


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_archive_is_read_back_by_zipfile_and_numpy() -> None:
    arrays = {
        "features": np.random.default_rng(0).random((16, 121), dtype=np.float32),
        "conditions": np.linspace(1.0, 2.0, 16)[:, None],
        "names": np.asarray(["voxels[0]", "E_inc"]),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    body = stored_zip([(f"{name}.npy", _npy(array)) for name, array in arrays.items()])
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None  # every member's CRC-32 and size check out
        assert archive.namelist() == [f"{name}.npy" for name in arrays]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    with np.load(io.BytesIO(body), allow_pickle=False) as loaded:
        for name, array in arrays.items():
            assert loaded[name].dtype == array.dtype
            np.testing.assert_array_equal(loaded[name], array)


def test_empty_archive_is_a_valid_zip() -> None:
    with zipfile.ZipFile(io.BytesIO(stored_zip([]))) as archive:
        assert archive.namelist() == []


def _header(n_events: int) -> BatchHeader:
    return BatchHeader(
        model="showers",
        n_events=n_events,
        seed=3,
        feature_names=["voxels[0]", "voxels[1]"],
        feature_units=["MeV", "MeV"],
        condition_names=["incident_energy"],
        condition_units=["MeV"],
        report={"summary": {"status": "insufficient"}},
    )


def _members(body: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(body), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.mark.parametrize("one_piece_bytes", [encoders.ONE_PIECE_NPZ_BYTES, 0])
def test_whole_npz_body_holds_what_the_stream_holds(
    monkeypatch: pytest.MonkeyPatch, one_piece_bytes: int
) -> None:
    """Written in one piece, or through zipfile when the events are over the one-piece size."""
    monkeypatch.setattr(encoders, "ONE_PIECE_NPZ_BYTES", one_piece_bytes)
    rng = np.random.default_rng(1)
    chunks = [(rng.random((n, 2), dtype=np.float32), rng.random((n, 1)) * 1000) for n in (5, 3)]

    def encoder() -> NpzEncoder:
        return NpzEncoder(_header(8), lambda features, conditions: {}, "events")

    whole = _members(encoder().whole(chunks))
    streamed = _members(StreamEncoder.whole(encoder(), chunks))
    assert list(whole) == list(streamed)
    for name, array in streamed.items():
        assert whole[name].dtype == array.dtype
        np.testing.assert_array_equal(whole[name], array)
    np.testing.assert_array_equal(whole["features"], np.concatenate([c[0] for c in chunks]))
    assert whole["conditions"].dtype == np.float64 and whole["conditions"].shape == (8, 1)
