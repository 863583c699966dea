"""strata.Collection end to end: writes, searches against numpy brute force, deletes,
consolidation, reopen, labels, dtypes, bulk load and snapshots."""
import numpy as np
import pytest

import strata
from helpers import clustered, exact_knn, recall, write_bin

DIM = 24
SEED = 11


def fresh(path, **kw):
    """A collection that consolidates only when asked (deterministic tests)."""
    opts = dict(background=False, consolidate_at=0, degree=32, list_size=64)
    opts.update(kw)
    return strata.Collection.create(path, DIM, **opts)


def check_recall(c, base, base_ids, queries, k=10, minimum=0.95, **search):
    ids, dists = c.search(queries, k=k, **search)
    assert ids.shape == (len(queries), k) and ids.dtype == np.uint64
    assert dists.shape == (len(queries), k) and dists.dtype == np.float32
    truth = base_ids[exact_knn(base, queries, k)]
    r = recall(ids, truth)
    assert r >= minimum, f"recall@{k} {r:.3f} < {minimum} (seed {SEED})"
    # The distances are the squared l2 distances of the ids returned, closest first.
    where = {int(i): n for n, i in enumerate(base_ids)}
    rows = np.array([[where[int(i)] for i in row] for row in ids])
    want = ((base[rows] - queries[:, None, :]) ** 2).sum(-1)
    np.testing.assert_allclose(dists, want, rtol=1e-4, atol=1e-3)
    assert (np.diff(dists, axis=1) >= 0).all()
    return ids


def test_round_trip_recall_deletes_consolidation_reopen(tmp_path):
    print(f"seed {SEED}")
    base = clustered(4000, DIM, SEED)
    queries = clustered(100, DIM, SEED + 1)
    base_ids = np.arange(4000, dtype=np.uint64) + 10_000
    path = tmp_path / "c"
    c = fresh(path)
    for lo in range(0, 4000, 1000):
        c.upsert(base_ids[lo : lo + 1000], base[lo : lo + 1000])
    assert len(c) == 4000
    assert c.stats()["hot"] == 4000 and c.stats()["generation"] == 0
    ids = check_recall(c, base, base_ids, queries)

    one_ids, one_dists = c.search(queries[0], k=10)
    assert one_ids.shape == (10,) and one_dists.shape == (10,)
    np.testing.assert_array_equal(one_ids, ids[0])

    np.testing.assert_array_equal(c.get(10_007), base[7])
    deleted = base_ids[::8]
    c.delete(deleted)
    keep = np.ones(4000, dtype=bool)
    keep[::8] = False
    assert len(c) == keep.sum()
    ids = check_recall(c, base[keep], base_ids[keep], queries)
    assert not np.isin(ids, deleted).any()
    with pytest.raises(strata.NotFound, match="10000"):
        c.get(10_000)

    report = c.consolidate()
    assert report["swapped"], report
    assert report["generation"] == 1 and report["recall"] >= 0.9
    st = c.stats()
    assert st["generation"] == 1 and st["generation_nodes"] == keep.sum() and st["hot"] == 0
    check_recall(c, base[keep], base_ids[keep], queries)

    # Replace one vector after the consolidation: the hot tier wins over the generation.
    moved = base[1] + 0.5
    c.upsert([10_001], moved[None, :])
    np.testing.assert_array_equal(c.get(10_001), moved)
    base[1] = moved
    c.close()
    assert c.closed

    with strata.Collection.open(path, background=False) as c2:
        st = c2.stats()
        assert st["live"] == keep.sum() and st["generation"] == 1 and st["hot"] == 1
        np.testing.assert_array_equal(c2.get(10_001), moved)
        check_recall(c2, base[keep], base_ids[keep], queries)
        # Exact search is the reference: the same as numpy.
        eids, _ = c2.exact_search(queries[:10], k=5)
        np.testing.assert_array_equal(eids, base_ids[keep][exact_knn(base[keep], queries[:10], 5)])
    assert c2.closed


def test_filtered_search_on_labels(tmp_path):
    base = clustered(3000, DIM, SEED + 2)
    queries = clustered(40, DIM, SEED + 3)
    colors = np.array(["red", "green", "blue"])[np.arange(3000) % 3]
    labels = [[str(col), "big"] if i % 10 == 0 else str(col) for i, col in enumerate(colors)]
    labels[5] = None  # a row without labels
    ids = np.arange(3000, dtype=np.uint64)
    c = fresh(tmp_path / "c")
    c.upsert(ids, base, labels=labels)
    assert c.stats()["labels"] == 4
    red = (colors == "red") & (np.arange(3000) != 5)
    red_filter = {"must": [{"key": "label", "match": {"value": "red"}}]}

    def check(minimum):
        got, dists = c.search(queries, k=10, filter=red_filter)
        assert np.isin(got, ids[red]).all(), "a non-red id passed the filter"
        truth = ids[red][exact_knn(base[red], queries, 10)]
        assert recall(got, truth) >= minimum
        as_text, _ = c.search(queries, k=10, filter='{"must": [{"key": "label", '
                              '"match": {"value": "red"}}]}')
        np.testing.assert_array_equal(as_text, got)
        not_red, _ = c.search(queries, k=10, filter={"must_not": [{"key": "label",
                                                                    "match": {"value": "red"}}]})
        assert not np.isin(not_red, ids[red]).any()
        big_red, _ = c.search(queries, k=10, filter={"must": [
            {"key": "label", "match": {"value": "red"}},
            {"key": "label", "match": {"value": "big"}}]})
        big_red_ids = ids[red & (np.arange(3000) % 10 == 0)]
        assert np.isin(big_red, big_red_ids).all()
        nothing, nd = c.search(queries[0], k=10, filter={"must": [
            {"key": "label", "match": {"value": "purple"}}]})
        assert (nothing == strata.NO_ID).all() and np.isinf(nd).all()

    check(0.9)  # hot tier
    assert c.consolidate()["swapped"]
    check(0.9)  # filter-aware disk generation
    c.close()


def test_u8_collection_takes_uint8_and_float_queries(tmp_path):
    rng = np.random.default_rng(SEED)
    base = rng.integers(0, 256, size=(1000, DIM), dtype=np.uint8)
    c = fresh(tmp_path / "c", dtype="u8")
    c.upsert(np.arange(1000), base)
    got = c.get(3)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, base[3])
    a, da = c.search(base[:20], k=5)
    b, db = c.search(base[:20].astype(np.float32), k=5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(da, db)
    assert (a[:, 0] == np.arange(20)).all()  # each stored vector finds itself first
    with pytest.raises(TypeError, match="int8"):
        c.upsert([5], base[:1].astype(np.int8))
    with pytest.raises(strata.InvalidArgument, match="not a u8 value"):
        c.upsert([5], np.full((1, DIM), 300.0, dtype=np.float32))
    c.close()


def test_cosine_normalizes_on_ingest(tmp_path):
    base = clustered(500, DIM, SEED + 4)
    c = fresh(tmp_path / "c", metric="cosine")
    c.upsert(np.arange(500), base)
    assert abs(float(np.linalg.norm(c.get(9))) - 1) < 1e-5
    ids, dists = c.search(base[9] * 7.5, k=3)
    assert ids[0] == 9 and abs(dists[0]) < 1e-5
    with pytest.raises(strata.InvalidArgument, match="zero vector"):
        c.upsert([600], np.zeros((1, DIM), dtype=np.float32))
    c.close()


def test_inputs_are_converted(tmp_path):
    base = clustered(800, DIM, SEED + 5)
    queries = clustered(10, DIM, SEED + 6)
    c = fresh(tmp_path / "c")
    # float64, Fortran order and a list of ids: converted, same data.
    c.upsert(list(range(800)), np.asfortranarray(base.astype(np.float64)))
    np.testing.assert_array_equal(c.get(np.uint64(17)), base[17])
    want, _ = c.search(queries, k=10)
    for q in (queries.astype(np.float64), np.asfortranarray(queries), queries.tolist(),
              np.repeat(queries, 2, axis=0)[::2], queries.astype(">f4")):
        got, _ = c.search(q, k=10)
        np.testing.assert_array_equal(got, want)
    c.delete([])  # nothing to do
    c.upsert(np.empty(0, dtype=np.uint64), np.empty((0, DIM), dtype=np.float32))
    assert len(c) == 800
    c.close()


def test_bulk_load_then_snapshot(tmp_path):
    base = clustered(2000, DIM, SEED + 7)
    queries = clustered(30, DIM, SEED + 8)
    data = write_bin(tmp_path / "base.fbin", base)
    c = fresh(tmp_path / "c")
    c.bulk_load(data, threads=2)
    st = c.stats()
    assert st["generation"] == 1 and st["live"] == 2000 and st["hot"] == 0
    check_recall(c, base, np.arange(2000, dtype=np.uint64), queries)
    c.upsert([5000], queries[:1])  # a write in the log, after the generation
    c.snapshot(tmp_path / "snap")
    want, wd = c.search(queries, k=10)
    c.close()
    with strata.Collection.open(tmp_path / "snap", background=False) as s:
        assert len(s) == 2001
        got, gd = s.search(queries, k=10)
        assert got[0, 0] == 5000
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(gd, wd)
    with pytest.raises(strata.AlreadyExists):
        strata.Collection.open(tmp_path / "c", background=False).snapshot(tmp_path / "snap")


def test_params_repr_and_version(tmp_path):
    c = fresh(tmp_path / "c", metric="ip", degree=24, pq_bytes=8)
    p = c.params
    assert p["dim"] == DIM and p["metric"] == "ip" and p["dtype"] == "f32"
    assert p["degree"] == 24 and p["pq_bytes"] == 8
    assert c.dim == DIM and c.metric == "ip" and c.dtype == "f32"
    assert str(tmp_path / "c") in repr(c) and "closed" not in repr(c)
    assert strata.Collection.exists(tmp_path / "c")
    assert not strata.Collection.exists(tmp_path)
    c.close()
    assert "closed" in repr(c) and c.params["dim"] == DIM  # params outlive close()
    assert strata.__version__.count(".") == 2
    assert strata.NO_ID == 2**64 - 1
