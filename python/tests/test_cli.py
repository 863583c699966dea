"""Same ids as the strata command: data from `strata gen`, indexes from `strata build` and
strata.build(), collections from `strata ingest` and strata.Collection, and every search
through the module must return the ids `strata search --out` wrote for the same queries and
parameters (--L 100 --k 10 --beamwidth 4)."""
import json

import numpy as np
import pytest

import strata
from helpers import as_u32_ids, read_fbin, read_ibin, run_cli, write_bin

K, L, W = 10, 100, 4


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    run_cli("gen", "--quiet", "--n", 3000, "--dim", 32, "--seed", 7, "--out", tmp / "base.fbin",
            "--queries", 60, "--queries-out", tmp / "q.fbin", "--labels", 4,
            "--labels-out", tmp / "labels.txt")
    # Rows for the hot tier: near the first queries, so that they show up in the results.
    rng = np.random.default_rng(8)
    queries = read_fbin(tmp / "q.fbin")
    write_bin(tmp / "extra.fbin", queries[rng.integers(0, 60, size=300)] +
              rng.normal(scale=0.05, size=(300, 32)).astype(np.float32))
    return tmp


def cli_search(tmp, target, *extra):
    out = tmp / "ids.ibin"
    run_cli("search", "--quiet", "--index", target, "--queries", tmp / "q.fbin", "--L", L,
            "--k", K, "--beamwidth", W, "--out", out, *extra)
    return read_ibin(out)


@pytest.mark.parametrize("mode,io", [("pipelined", "auto"), ("rounds", "auto"),
                                     ("pipelined", "pread")])
def test_index_same_ids_as_cli(data, mode, io):
    idx = data / f"idx-{mode}-{io}"
    run_cli("build", "--quiet", "--data", data / "base.fbin", "--out", idx, "--R", 32, "--L", 64,
            "--labels", data / "labels.txt")
    queries = read_fbin(data / "q.fbin")
    want = cli_search(data, idx, "--mode", mode, "--io", io)
    with strata.Index.open(idx, io=io) as index:
        ids, _ = index.search(queries, k=K, list_size=L, beam_width=W, mode=mode)
        np.testing.assert_array_equal(as_u32_ids(ids), want)
        one, _ = index.search(queries[5], k=K, list_size=L, beam_width=W, mode=mode)
        np.testing.assert_array_equal(as_u32_ids(one), want[5])
        flt = {"must": [{"key": "label", "match": {"value": "L1"}}]}
        want_f = cli_search(data, idx, "--mode", mode, "--io", io, "--filter", json.dumps(flt))
        got_f, _ = index.search(queries, k=K, list_size=L, beam_width=W, mode=mode, filter=flt)
        np.testing.assert_array_equal(as_u32_ids(got_f), want_f)


def test_python_built_index_same_ids_as_cli(data):
    idx = data / "idx-py"
    strata.build(data / "base.fbin", idx, degree=32, list_size=64)
    queries = read_fbin(data / "q.fbin")
    want = cli_search(data, idx)
    with strata.Index.open(idx) as index:
        ids, _ = index.search(queries, k=K, list_size=L, beam_width=W)
    np.testing.assert_array_equal(as_u32_ids(ids), want)


def test_ingested_collection_same_ids_as_cli(data):
    coll = data / "coll-cli"
    # A generation from the bulk load plus a hot tier written through the log.
    run_cli("ingest", "--quiet", coll, "--data", data / "base.fbin", "--R", 32, "--L", 64,
            "--labels", data / "labels.txt")
    run_cli("ingest", "--quiet", coll, "--data", data / "extra.fbin")
    queries = read_fbin(data / "q.fbin")
    want = cli_search(data, coll)
    flt = '{"must": [{"key": "label", "match": {"value": "L0"}}]}'
    want_f = cli_search(data, coll, "--filter", flt)
    with strata.Collection.open(coll, background=False, consolidate_at=0) as c:
        st = c.stats()
        assert st["generation"] == 1 and st["hot"] == 300
        ids, _ = c.search(queries, k=K, list_size=L, beam_width=W)
        got_f, _ = c.search(queries, k=K, list_size=L, beam_width=W, filter=flt)
    np.testing.assert_array_equal(as_u32_ids(ids), want)
    assert (want >= 3000).any(), "no hot-tier id among the results: the test lost its point"
    np.testing.assert_array_equal(as_u32_ids(got_f), want_f)


def test_python_written_collection_same_ids_as_cli(data):
    base = read_fbin(data / "base.fbin")
    queries = read_fbin(data / "q.fbin")
    coll = data / "coll-py"
    with strata.Collection.create(coll, 32, degree=32, list_size=64, background=False,
                                  consolidate_at=0) as c:
        c.upsert(np.arange(2000) * 3, base[:2000])
        c.delete(np.arange(0, 6000, 9))
        assert c.consolidate()["swapped"]
        c.upsert(np.arange(2000, 3000) * 3, base[2000:])
    want = cli_search(data, coll)
    with strata.Collection.open(coll, background=False) as c:
        ids, _ = c.search(queries, k=K, list_size=L, beam_width=W)
    np.testing.assert_array_equal(as_u32_ids(ids), want)
    assert not np.isin(want, np.arange(0, 6000, 9)).any()
