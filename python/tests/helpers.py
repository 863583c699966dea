"""Data, files and exact search shared by the strata Python tests (numpy only)."""
import os
import subprocess
from pathlib import Path

import numpy as np

NO_ID_U32 = np.uint32(0xFFFFFFFF)


def clustered(n, dim, seed, clusters=16, noise=0.3):
    """n float32 vectors around `clusters` Gaussian centres (fixed by `seed`)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32) * 3
    which = rng.integers(0, clusters, size=n)
    return (centres[which] + rng.normal(scale=noise, size=(n, dim))).astype(np.float32)


def exact_knn(base, queries, k, metric="l2"):
    """Row indices of the k nearest rows of `base` to each query, closest first."""
    base = base.astype(np.float64)
    queries = np.atleast_2d(queries).astype(np.float64)
    if metric == "l2":
        d = (queries**2).sum(1)[:, None] - 2 * queries @ base.T + (base**2).sum(1)[None, :]
    elif metric == "ip":
        d = -(queries @ base.T)
    else:
        bn = base / np.linalg.norm(base, axis=1, keepdims=True)
        qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        d = 1 - qn @ bn.T
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def recall(found, truth):
    """Fraction of the true neighbours (per row) present in `found`."""
    found = np.atleast_2d(found)
    truth = np.atleast_2d(truth)
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth))
    return hits / truth.size


def write_bin(path, array):
    """Writes .fbin/.u8bin/.i8bin: u32 rows, u32 dim, then the rows."""
    array = np.ascontiguousarray(array)
    with open(path, "wb") as f:
        np.array(array.shape, dtype=np.uint32).tofile(f)
        array.tofile(f)
    return Path(path)


def read_fbin(path):
    head = np.fromfile(path, dtype=np.uint32, count=2)
    return np.fromfile(path, dtype=np.float32, offset=8).reshape(int(head[0]), int(head[1]))


def read_ibin(path):
    """`strata search --out` / `strata gt` output: u32 n, u32 k, then n*k u32 ids."""
    head = np.fromfile(path, dtype=np.uint32, count=2)
    return np.fromfile(path, dtype=np.uint32, offset=8).reshape(int(head[0]), int(head[1]))


def as_u32_ids(ids):
    """Python results as `strata search --out` writes them (ids >= 2^32, NO_ID, as 2^32-1)."""
    ids = np.asarray(ids, dtype=np.uint64)
    return np.where(ids > 0xFFFFFFFF, 0xFFFFFFFF, ids).astype(np.uint32)


def strata_bin():
    """The strata command: $STRATA_BIN (set by ctest), else build/tools/strata."""
    path = os.environ.get("STRATA_BIN")
    if not path:
        path = str(Path(__file__).resolve().parents[2] / "build" / "tools" / "strata")
    assert os.access(path, os.X_OK), f"strata command not found at {path} (set STRATA_BIN)"
    return path


def run_cli(*args):
    """Runs `strata <args>`; fails the test with the command's output when it fails."""
    cmd = [strata_bin(), *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}"
    return r.stdout
