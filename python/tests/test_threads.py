"""The GIL is released inside searches (other Python threads run meanwhile), concurrent
searches from Python threads give the sequential answers, and close() waits for them."""
import os
import sys
import threading
import time

import numpy as np
import pytest

import strata
from helpers import clustered, write_bin

DIM = 32


@pytest.fixture(scope="module")
def index_path(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("threads")
    data = write_bin(tmp / "base.fbin", clustered(3000, DIM, 31))
    strata.build(data, tmp / "idx", degree=32, list_size=64, threads=2)
    return tmp / "idx"


def ticks_during(call):
    """How many times the main thread ran Python code while another thread was inside
    `call()`. With a 30 s switch interval a thread holding the GIL is never preempted, so a
    call that holds the GIL for its whole length sees 0; a call that releases it sees more."""
    state = {"ticks": 0, "during": None}
    ready, done = threading.Event(), threading.Event()

    def worker():
        ready.wait()
        before = state["ticks"]
        call()
        state["during"] = state["ticks"] - before
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(30)
    try:
        t = threading.Thread(target=worker)
        t.start()
        while not done.is_set():
            state["ticks"] += 1
            ready.set()
            time.sleep(1e-4)  # gives the GIL up, so the worker can take it back when it returns
        t.join()
    finally:
        sys.setswitchinterval(old)
    return state["during"]


def releases_gil(call, attempts=3):
    """True when the main thread ran during `call()` (tried up to `attempts` times, so that a
    loaded machine that left the main thread unscheduled for a whole call does not fail the
    test; a call that keeps the GIL gives 0 every time)."""
    return any(ticks_during(call) > 0 for _ in range(attempts))


def long_search(index, queries):
    """A single-threaded batch of about 0.3 s or more."""
    reps = 1
    t0 = time.perf_counter()
    index.search(queries, k=10, list_size=200, threads=1)
    elapsed = time.perf_counter() - t0
    reps = max(1, int(0.3 / max(elapsed, 1e-4)) + 1)
    big = np.tile(queries, (reps, 1))
    return lambda: index.search(big, k=10, list_size=200, threads=1)


def test_gil_released_during_search(index_path):
    queries = clustered(200, DIM, 32)
    # The harness itself: a C call that keeps the GIL (sum over a range) lets nothing run.
    assert ticks_during(lambda: sum(range(3_000_000))) == 0
    with strata.Index.open(index_path) as index:
        assert releases_gil(long_search(index, queries))
    with strata.Collection.create(index_path.parent / "c", DIM, background=False,
                                  consolidate_at=0) as c:
        base = clustered(3000, DIM, 31)
        assert releases_gil(lambda: c.upsert(np.arange(3000), base))
        assert releases_gil(lambda: c.search(np.tile(queries, (5, 1)), list_size=300,
                                             threads=1))
        assert ticks_during(c.consolidate) > 0  # the first consolidation: about a second


def test_concurrent_searches_match_sequential(index_path):
    queries = clustered(400, DIM, 33)
    with strata.Index.open(index_path) as index:
        want, want_d = index.search(queries, k=10, mode="rounds", threads=1)
        results = [None] * 4
        errors = []

        def searcher(i):
            try:
                part = slice(i * 100, (i + 1) * 100)
                for _ in range(3):
                    got = index.search(queries[part], k=10, mode="rounds", threads=1)
                    results[i] = got
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=searcher, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        np.testing.assert_array_equal(np.vstack([r[0] for r in results]), want)
        np.testing.assert_array_equal(np.vstack([r[1] for r in results]), want_d)


def test_writers_and_searchers_together(tmp_path):
    base = clustered(2000, DIM, 34)
    c = strata.Collection.create(tmp_path / "c", DIM, background=False, consolidate_at=0)
    c.upsert(np.arange(1000), base[:1000])
    errors = []

    def writer():
        try:
            for lo in range(1000, 2000, 100):
                c.upsert(np.arange(lo, lo + 100), base[lo : lo + 100])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def searcher():
        try:
            for _ in range(20):
                ids, _ = c.search(base[:50], k=5, threads=1)
                # Rows written before the threads started always find themselves first.
                assert (ids[:, 0] == np.arange(50)).all()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=searcher)
                                                    for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(c) == 2000
    ids, _ = c.search(base[1500:1510], k=1)
    np.testing.assert_array_equal(ids[:, 0], np.arange(1500, 1510))
    c.close()


def test_close_waits_for_a_search_in_progress(index_path):
    queries = clustered(200, DIM, 35)
    index = strata.Index.open(index_path)
    call = long_search(index, queries)
    outcome = {}
    started = threading.Event()

    def worker():
        started.set()
        try:
            outcome["ids"] = call()[0]
        except strata.ClosedError as e:
            outcome["closed"] = e

    t = threading.Thread(target=worker)
    t.start()
    started.wait()
    time.sleep(0.05)  # most likely inside the search by now; either order must be safe
    index.close()  # either waits for the search or runs first: never frees it mid-search
    t.join()
    assert index.closed
    assert "closed" in outcome or (outcome["ids"] != strata.NO_ID).all(), outcome


def test_dropping_an_open_collection_closes_it(tmp_path):
    def threads_now():
        return len(os.listdir("/proc/self/task"))

    before = threads_now()
    c = strata.Collection.create(tmp_path / "c", DIM, consolidate_at=0)  # a background worker
    c.upsert(np.arange(10), clustered(10, DIM, 36))
    assert threads_now() > before
    del c  # no close(): the destructor closes it and joins the worker
    assert threads_now() == before
    with strata.Collection.open(tmp_path / "c", background=False) as again:
        assert len(again) == 10
