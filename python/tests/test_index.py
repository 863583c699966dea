"""strata.build() and strata.Index: recall against numpy brute force, per-query stats,
filtered search on a labelled index, info, close."""
import numpy as np
import pytest

import strata
from helpers import clustered, exact_knn, recall, write_bin

DIM = 32
SEED = 21


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("index")
    base = clustered(3000, DIM, SEED)
    data = write_bin(tmp / "base.fbin", base)
    labels = tmp / "labels.txt"
    labels.write_text("".join(f"{'odd' if i % 2 else 'even'}{',tens' if i % 10 == 0 else ''}\n"
                              for i in range(3000)))
    report = strata.build(data, tmp / "idx", degree=32, list_size=64, threads=2,
                          labels_path=labels)
    return base, tmp / "idx", report


def test_build_report_and_info(built):
    base, path, report = built
    assert report["rows_read"] == 3000 and report["rows_indexed"] == 3000
    assert report["dim"] == DIM and report["label_count"] == 3
    assert 0 < report["max_degree"] <= 32
    with strata.Index.open(path) as index:
        info = index.info
        assert info["node_count"] == 3000 and info["dim"] == DIM and info["degree"] == 32
        assert info["metric"] == "l2" and info["dtype"] == "f32" and info["label_count"] == 3
        assert len(index) == 3000 and index.dim == DIM
        assert str(path) in repr(index)
    assert index.closed
    with pytest.raises(strata.ClosedError, match="closed"):
        index.search(base[0])


def test_search_recall_and_stats(built):
    base, path, _ = built
    queries = clustered(100, DIM, SEED + 1)
    truth = exact_knn(base, queries, 10)
    with strata.Index.open(path, cache_bytes=1 << 20) as index:
        for mode in ("pipelined", "rounds"):
            ids, dists, stats = index.search(queries, k=10, list_size=100, beam_width=4,
                                             mode=mode, return_stats=True)
            assert ids.shape == (100, 10) and ids.dtype == np.uint64
            r = recall(ids, truth)
            assert r >= 0.95, f"{mode}: recall@10 {r:.3f} (seed {SEED})"
            want = ((base[ids.astype(np.int64)] - queries[:, None, :]) ** 2).sum(-1)
            np.testing.assert_allclose(dists, want, rtol=1e-4, atol=1e-3)
            assert stats.shape == (100,)
            assert (stats["hops"] > 0).all()
            assert (stats["reads"] + stats["cache_hits"] > 0).all()
            assert (stats["bytes_read"] == stats["reads"].astype(np.uint64) * 4096).all()
        one, _, one_stats = index.search(queries[3], k=10, return_stats=True)
        assert one.shape == (10,) and one_stats.shape == () and int(one_stats["hops"]) > 0
        # More candidates, no worse recall (up to a query's luck).
        wide, _ = index.search(queries, k=10, list_size=300)
        assert recall(wide, truth) >= r - 0.01
        # A single thread gives the same answers as all cores (rounds is order independent).
        a, _ = index.search(queries, k=10, mode="rounds", threads=1)
        b, _ = index.search(queries, k=10, mode="rounds", threads=0)
        np.testing.assert_array_equal(a, b)
        with pytest.raises(strata.InvalidArgument, match="k = 20 is not in"):
            index.search(queries, k=20, list_size=10)
        with pytest.raises(strata.InvalidArgument, match="mode"):
            index.search(queries, mode="fast")
        with pytest.raises(strata.InvalidArgument, match="filter_plan"):
            index.search(queries, filter_plan="magic")


def test_filtered_search(built):
    base, path, _ = built
    queries = clustered(30, DIM, SEED + 2)
    odd = np.arange(3000) % 2 == 1
    with strata.Index.open(path) as index:
        for plan in ("auto", "graph", "scan"):
            ids, _ = index.search(queries, k=10, filter={"must": [
                {"key": "label", "match": {"value": "odd"}}]}, filter_plan=plan)
            assert (ids % 2 == 1).all(), plan
            truth = np.flatnonzero(odd)[exact_knn(base[odd], queries, 10)]
            assert recall(ids, truth) >= 0.9, plan
        tens, _ = index.search(queries, k=10, filter={"must": [
            {"key": "label", "match": {"any": ["tens"]}}]})
        assert (tens % 10 == 0).all()
        none, dists = index.search(queries[0], k=10, filter={"must": [
            {"key": "label", "match": {"value": "none-such"}}]})
        assert (none == strata.NO_ID).all() and np.isinf(dists).all()


def test_unlabelled_index_refuses_filters(tmp_path):
    data = write_bin(tmp_path / "base.fbin", clustered(500, DIM, SEED + 3))
    strata.build(data, tmp_path / "idx", threads=1, metric="ip")
    with strata.Index.open(tmp_path / "idx", io="pread") as index:
        assert index.metric == "ip" and index.info["io_backend"] == "pread"
        with pytest.raises(strata.InvalidArgument, match="label"):
            index.search(np.ones(DIM, dtype=np.float32), filter={"must": [
                {"key": "label", "match": {"value": "x"}}]})
