#!/usr/bin/env python3
"""Helpers of the server benchmark (standard library only).

  http_client.py bodies QUERIES.fbin OUT.txt --L 50 [--limit 10]
      one search JSON body per query, for wrk (bench/server/search.lua)
  http_client.py recall QUERIES.fbin GT.ibin --port P [--collection bench] [--L 50] [--n 2000]
      runs n searches over one keep-alive connection, prints the offline recall@10 of the answers
      against the ground truth, waits for the recall monitor to score its samples and prints its
      gauge: one JSON line
"""
import argparse
import http.client
import json
import re
import struct
import sys
import time


def read_fbin(path, limit=None):
    with open(path, "rb") as f:
        n, d = struct.unpack("<II", f.read(8))
        if limit is not None:
            n = min(n, limit)
        rows = [struct.unpack("<%df" % d, f.read(4 * d)) for _ in range(n)]
    return rows


def read_ibin(path, limit=None):
    with open(path, "rb") as f:
        n, k = struct.unpack("<II", f.read(8))
        if limit is not None:
            n = min(n, limit)
        return [struct.unpack("<%dI" % k, f.read(4 * k)) for _ in range(n)]


def body(q, L, limit):
    return json.dumps({"vector": [round(x, 6) for x in q], "limit": limit,
                       "params": {"search_list": L}}, separators=(",", ":"))


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["bodies", "recall"])
    ap.add_argument("queries")
    ap.add_argument("out")
    ap.add_argument("--L", type=int, default=50)
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--port", type=int, default=6333)
    ap.add_argument("--collection", default="bench")
    ap.add_argument("--n", type=int, default=2000)
    a = ap.parse_args()
    if a.cmd == "bodies":
        with open(a.out, "w") as f:
            for q in read_fbin(a.queries):
                f.write(body(q, a.L, a.limit) + "\n")
        return
    queries = read_fbin(a.queries, a.n)
    gt = read_ibin(a.out, a.n)
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
    hits = 0
    for q, truth in zip(queries, gt):
        conn.request("POST", "/collections/%s/points/search" % a.collection, body(q, a.L, 10),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit("search: %d %s" % (r.status, data[:200]))
        ids = {p["id"] for p in json.loads(data)["result"]}
        hits += len(ids & set(truth[:10]))
    offline = hits / (10.0 * len(queries))
    gauge = None
    for _ in range(3000):
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        text = r.read().decode()
        if metric(text, "strata_recall_monitor_queue") == 0:
            gauge = metric(text, 'strata_recall{collection="%s"}' % a.collection)
            break
        time.sleep(0.2)
    samples = re.search(r'^strata_recall_sample_count\{collection="%s"\} (\d+)$' % a.collection,
                        text, re.M)
    print(json.dumps({"L": a.L, "queries": len(queries), "offline_recall": round(offline, 4),
                      "monitor_recall": gauge,
                      "monitor_samples": int(samples.group(1)) if samples else 0}))


if __name__ == "__main__":
    main()
