"""faiss IndexFlatL2 on the benchmark's data: add + search timed inside Python, per OpenMP thread setting.

Usage: python3 faiss_flat.py SPEC_JSON  (fields: trainPath, queriesPath, count, dim, queryCount, k, threads — a list of
OpenMP thread counts, 0 for faiss's default — and indicesOut, optional: where to write the first search's indices).
Prints one JSON line. Called by bench/run.ts with Debian's /usr/bin/python3 (package python3-faiss).
"""
import json
import resource
import sys
import time

import faiss
import numpy as np


def main():
    spec = json.loads(sys.argv[1])
    train = np.fromfile(spec["trainPath"], dtype=np.float32).reshape(spec["count"], spec["dim"])
    queries = np.fromfile(spec["queriesPath"], dtype=np.float32).reshape(spec["queryCount"], spec["dim"])
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    default_threads = faiss.omp_get_max_threads()
    runs = []
    indices = None
    for threads in spec["threads"]:
        faiss.omp_set_num_threads(threads if threads > 0 else default_threads)
        start = time.perf_counter()
        index = faiss.IndexFlatL2(spec["dim"])
        index.add(train)
        added = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        _, found = index.search(queries, spec["k"])
        searched = time.perf_counter()
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        cpu_seconds = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        if indices is None:
            indices = found
        del index
        runs.append({
            "threads": threads if threads > 0 else default_threads,
            "default": threads <= 0,
            "addMs": (added - start) * 1000,
            "searchMs": (searched - added) * 1000,
            "searchCoresBusy": cpu_seconds / (searched - added),
        })
    if spec.get("indicesOut"):
        indices.astype(np.int32).tofile(spec["indicesOut"])
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "version": faiss.__version__,
        "defaultThreads": default_threads,
        "runs": runs,
        "rssBeforeBytes": rss_before_kb * 1024,
        "peakRssBytes": peak_kb * 1024,
    }))


if __name__ == "__main__":
    main()
