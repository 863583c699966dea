#!/usr/bin/python3
"""Recall-vs-QPS plot and CSV from search sweeps written as JSON lines.

Usage: scripts/plot_sweep.py --out PREFIX [--title T] FILE.jsonl [FILE.jsonl ...]
Writes PREFIX.png (recall@k on x, QPS on a log y axis, one curve per system/mode/threads) and
PREFIX.csv (every point).

Accepted lines:
  strata (`strata search --json`): L, beamwidth, threads, k, recall, qps, latency_us{...},
      reads_mean, ... and optionally system, mode. Without `system` the curve is "strata".
  peers (bench/peers/peer_bench): system, param ("ef"/"nprobe"), value, threads, k, recall, qps,
      latency_us{...}, build_seconds, index_ram_bytes, peak_rss_bytes, ...
Lines that are blank, not JSON objects, or without recall/qps (e.g. recall null) are skipped
with a note on stderr. Needs only the standard library and matplotlib from the Debian package
python3-matplotlib (scripts/setup.sh --with-bench), hence the /usr/bin/python3 interpreter.
"""

import argparse
import csv
import json
import sys
from collections import OrderedDict

try:
    import matplotlib
except ImportError:
    sys.exit(f"plot_sweep: {sys.executable} has no matplotlib; install python3-matplotlib "
             "(scripts/setup.sh --with-bench) and run with /usr/bin/python3")

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

# Build or search settings that split a system/mode/threads group into separate curves when
# they differ between runs (e.g. two beam widths, or hnswlib with M=16 and M=32).
CONFIG_KEYS = ["beamwidth", "M", "ef_construction", "nlist", "pq_bytes"]
LEAD_COLUMNS = ["file", "curve", "system", "mode", "threads", "k", "param", "value", "recall",
                "qps", "latency_us_mean", "latency_us_p50", "latency_us_p99", "latency_us_p999"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output prefix: PREFIX.png and PREFIX.csv")
    p.add_argument("--title", default="recall vs QPS", help="plot title")
    p.add_argument("files", nargs="+", help="JSON-lines sweep files")
    return p.parse_args()


def normalise(obj, path):
    """One flat point dict from a strata or peer line, or None when it cannot be plotted."""
    if not isinstance(obj, dict):
        return None
    recall, qps = obj.get("recall"), obj.get("qps")
    if not isinstance(recall, (int, float)) or not isinstance(qps, (int, float)) or qps <= 0:
        return None
    point = {"file": path}
    for key, val in obj.items():
        if isinstance(val, dict):
            for sub, sval in val.items():
                point[f"{key}_{sub}"] = sval
        else:
            point[key] = val
    point.setdefault("system", "strata" if "L" in obj else path)
    point.setdefault("mode", "")
    if "param" not in point and "L" in obj:
        point["param"], point["value"] = "L", obj["L"]
    return point


def read_points(paths):
    points = []
    for path in paths:
        try:
            handle = open(path, encoding="utf-8")
        except OSError as err:
            sys.exit(f"plot_sweep: cannot read {path}: {err.strerror}")
        with handle:
            for lineno, line in enumerate(handle, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    point = normalise(json.loads(line), path)
                except json.JSONDecodeError:
                    point = None
                if point is None:
                    print(f"plot_sweep: {path}:{lineno}: skipped (not a sweep point)",
                          file=sys.stderr)
                    continue
                points.append(point)
    if not points:
        sys.exit("plot_sweep: no plottable points in " + ", ".join(paths))
    return points


def base_key(p):
    return (str(p["system"]), str(p["mode"]), p.get("threads"))


def full_key(p):
    return base_key(p) + tuple(p.get(k) for k in CONFIG_KEYS)


def label_curves(points):
    """Assigns point['curve']: system[/mode], N thr, plus the config keys that vary."""
    varying = {}
    for p in points:
        for i, key in enumerate(CONFIG_KEYS):
            varying.setdefault((base_key(p), i), set()).add(p.get(key))
    for p in points:
        system, mode, threads = base_key(p)
        label = system + (f"/{mode}" if mode else "")
        if threads is not None:
            label += f", {threads} thr"
        for i, key in enumerate(CONFIG_KEYS):
            if len(varying[(base_key(p), i)]) > 1 and p.get(key) is not None:
                label += f", {key}={p[key]}"
        p["curve"] = label


def sort_key(p):
    value = p.get("value")
    return (0, value, p["recall"]) if isinstance(value, (int, float)) else (1, 0, p["recall"])


def write_csv(points, path):
    extra = sorted({k for p in points for k in p if k not in LEAD_COLUMNS})
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=LEAD_COLUMNS + extra, extrasaction="ignore")
        writer.writeheader()
        for p in points:
            writer.writerow({k: ("" if v is None else v) for k, v in p.items()})


def plot(points, title, path):
    curves = OrderedDict()
    for p in points:
        curves.setdefault(full_key(p), []).append(p)
    ks = sorted({p.get("k") for p in points if p.get("k") is not None})
    fig, ax = plt.subplots(figsize=(8, 5.5))
    markers = "osD^v<>pPX*h"
    for i, pts in enumerate(curves.values()):
        pts.sort(key=sort_key)
        ax.plot([p["recall"] for p in pts], [p["qps"] for p in pts],
                marker=markers[i % len(markers)], markersize=4, linewidth=1.2,
                label=pts[0]["curve"])
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{ks[0]}" if len(ks) == 1 else "recall@k")
    ax.set_ylabel("queries per second (log)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def main():
    args = parse_args()
    points = read_points(args.files)
    label_curves(points)
    write_csv(points, args.out + ".csv")
    plot(points, args.title, args.out + ".png")
    print(f"plot_sweep: {len(points)} points, "
          f"{len({full_key(p) for p in points})} curves -> {args.out}.png, {args.out}.csv",
          file=sys.stderr)


if __name__ == "__main__":
    main()
