"""Bad input raises the right strata.Error subclass (or TypeError) with a message naming the
problem, and nothing is written."""
import numpy as np
import pytest

import strata
from helpers import clustered, write_bin

DIM = 16


@pytest.fixture
def coll(tmp_path):
    c = strata.Collection.create(tmp_path / "c", DIM, background=False, consolidate_at=0)
    c.upsert(np.arange(100), clustered(100, DIM, 5))
    yield c
    c.close()


def test_exception_classes():
    for name, builtin in [("InvalidArgument", ValueError), ("NotFound", LookupError),
                          ("IOError", OSError), ("AlreadyExists", FileExistsError),
                          ("OutOfRange", ValueError), ("ClosedError", ValueError)]:
        cls = getattr(strata, name)
        assert issubclass(cls, strata.Error) and issubclass(cls, builtin), name
    for name in ("Corruption", "NotSupported", "ResourceExhausted", "InternalError",
                 "Cancelled", "Busy"):
        assert issubclass(getattr(strata, name), strata.Error), name


def test_wrong_dimension(coll):
    with pytest.raises(strata.InvalidArgument, match="dimension 15.*dimension 16") as e:
        coll.upsert([1], np.zeros((1, 15), dtype=np.float32))
    assert isinstance(e.value, ValueError) and e.value.code == "InvalidArgument"
    with pytest.raises(ValueError, match="dimension 17"):
        coll.search(np.zeros(17, dtype=np.float32))
    with pytest.raises(strata.InvalidArgument, match="2-D array"):
        coll.search(np.zeros((2, 2, DIM), dtype=np.float32))


def test_nan_names_row_and_element(coll):
    bad = clustered(4, DIM, 6)
    bad[2, 3] = np.nan
    with pytest.raises(strata.InvalidArgument, match="2: element 3 is not a finite number"):
        coll.upsert([200, 201, 202, 203], bad)
    assert len(coll) == 100  # all or nothing
    with pytest.raises(strata.InvalidArgument, match="not a finite number"):
        coll.search(np.full(DIM, np.inf, dtype=np.float32))


def test_wrong_dtype(coll):
    with pytest.raises(TypeError, match="int64"):
        coll.upsert([1], np.ones((1, DIM), dtype=np.int64))
    with pytest.raises(TypeError, match="uint8.*f32"):
        coll.search(np.ones(DIM, dtype=np.uint8))
    with pytest.raises(TypeError, match="queries has dtype <U12"):
        coll.search("not a vector")
    with pytest.raises(TypeError, match="ids must be integers"):
        coll.delete(np.array([1.5]))


def test_bad_ids(coll):
    with pytest.raises(strata.InvalidArgument, match="negative"):
        coll.delete([-1])
    with pytest.raises(strata.InvalidArgument, match="2 ids for 1 vectors"):
        coll.upsert([1, 2], np.zeros((1, DIM), dtype=np.float32))
    with pytest.raises(strata.InvalidArgument, match="reserved"):
        coll.upsert([strata.NO_ID], np.ones((1, DIM), dtype=np.float32))
    with pytest.raises(strata.InvalidArgument, match="appears twice"):
        coll.upsert([7, 7], np.ones((2, DIM), dtype=np.float32))
    with pytest.raises(strata.NotFound, match="12345"):
        coll.get(12345)


def test_bad_labels(coll):
    one = np.ones((1, DIM), dtype=np.float32)
    with pytest.raises(strata.InvalidArgument, match="labels has 2 rows"):
        coll.upsert([300], one, labels=["a", "b"])
    with pytest.raises(strata.InvalidArgument, match="comma"):
        coll.upsert([300], one, labels=["a,b"])
    with pytest.raises(TypeError, match="labels"):
        coll.upsert([300], one, labels="a")
    with pytest.raises(TypeError, match="labels\\[0\\]"):
        coll.upsert([300], one, labels=[[3]])


def test_bad_filter(coll):
    q = np.zeros(DIM, dtype=np.float32)
    with pytest.raises(strata.InvalidArgument) as e:
        coll.search(q, filter="{not json")
    assert "filter" in str(e.value).lower() or "json" in str(e.value).lower(), str(e.value)
    with pytest.raises(strata.InvalidArgument, match="range.gt must be a number"):
        coll.search(q, filter={"must": [{"key": "price", "range": {"gt": "3"}}]})
    with pytest.raises(TypeError, match="filter"):
        coll.search(q, filter=42)


def test_bad_parameters(coll, tmp_path):
    q = np.zeros(DIM, dtype=np.float32)
    with pytest.raises(strata.InvalidArgument, match="k = 0"):
        coll.search(q, k=0)
    with pytest.raises(strata.InvalidArgument, match="beam_width = -1"):
        coll.search(q, beam_width=-1)
    with pytest.raises(strata.InvalidArgument, match="threads = -2"):
        coll.search(np.zeros((2, DIM), dtype=np.float32), threads=-2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        strata.Collection.open(coll.dir, bogus=1)
    with pytest.raises(TypeError, match="hot_m must be an int"):
        strata.Collection.create(tmp_path / "x", DIM, hot_m="16")
    with pytest.raises(strata.InvalidArgument, match="hot_m"):
        strata.Collection.create(tmp_path / "x", DIM, hot_m=1)
    with pytest.raises(strata.InvalidArgument, match="metric"):
        strata.Collection.create(tmp_path / "x", DIM, metric="hamming")
    with pytest.raises(strata.InvalidArgument, match="dimension 0"):
        strata.Collection.create(tmp_path / "x", 0)
    with pytest.raises(strata.InvalidArgument, match="wal_sync"):
        strata.Collection.create(tmp_path / "x", DIM, wal_sync="sometimes")
    with pytest.raises(strata.InvalidArgument, match="log level"):
        strata.set_log_level("loud")
    assert not (tmp_path / "x").exists()


def test_closed_collection(coll):
    coll.close()
    coll.close()  # idempotent
    q = np.zeros(DIM, dtype=np.float32)
    for call in (lambda: coll.search(q), lambda: coll.upsert([1], q[None, :]),
                 lambda: coll.delete([1]), coll.stats, coll.consolidate, lambda: len(coll)):
        with pytest.raises(strata.ClosedError, match="closed") as e:
            call()
        assert isinstance(e.value, ValueError)


def test_missing_existing_and_damaged(tmp_path):
    with pytest.raises(strata.NotFound, match="nowhere") as e:
        strata.Collection.open(tmp_path / "nowhere")
    assert isinstance(e.value, LookupError)
    with pytest.raises(strata.NotFound):
        strata.Index.open(tmp_path / "nowhere")
    strata.Collection.create(tmp_path / "c", DIM).close()
    with pytest.raises(strata.AlreadyExists, match="already exists") as e:
        strata.Collection.create(tmp_path / "c", DIM)
    assert isinstance(e.value, FileExistsError)

    data = write_bin(tmp_path / "base.fbin", clustered(300, DIM, 8))
    strata.build(data, tmp_path / "idx", threads=1)
    ids = tmp_path / "idx" / "ids.u64"
    raw = bytearray(ids.read_bytes())
    raw[16] ^= 0xFF
    ids.write_bytes(bytes(raw))
    with pytest.raises(strata.Corruption, match="ids.u64"):
        strata.Index.open(tmp_path / "idx")


def test_build_errors(tmp_path):
    base = clustered(300, DIM, 9)
    base[42, 0] = np.nan
    data = write_bin(tmp_path / "bad.fbin", base)
    with pytest.raises(strata.InvalidArgument, match="42"):
        strata.build(data, tmp_path / "idx", threads=1)
    assert not (tmp_path / "idx").exists()
    report = strata.build(data, tmp_path / "idx", threads=1, skip_bad=True)
    assert report["rows_skipped"] == 1 and report["rows_indexed"] == 299
    with pytest.raises(strata.AlreadyExists):
        strata.build(data, tmp_path / "idx", threads=1, skip_bad=True)
    with pytest.raises(strata.InvalidArgument, match="degree|R"):
        strata.build(data, tmp_path / "idx2", threads=1, degree=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'R'"):
        strata.build(data, tmp_path / "idx2", R=32)
