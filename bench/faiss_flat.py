"""faiss IndexFlatL2 on the benchmark's data, at one thread setting: a warm-up, then add + search timed inside Python.

Usage: python3 faiss_flat.py SPEC_JSON  (fields: trainPath, queriesPath, count, dim, queryCount, k, and indicesOut,
optional: where to write the search's indices as int32). The thread setting comes from the environment bench/run.ts
gives this process: OMP_NUM_THREADS (faiss's OpenMP loops) and OPENBLAS_NUM_THREADS (the GEMM faiss calls for 20 or
more queries), with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset so OpenBLAS picks its kernel for this CPU.
Prints one JSON line. Called by bench/run.ts with Debian's /usr/bin/python3 (package python3-faiss).
"""
import json
import resource
import sys
import time

import faiss
import numpy as np

# The warm-up: a small index and a few hundred queries, enough to start the thread pools and touch the code paths.
WARM_UP_POINTS = 5000
WARM_UP_QUERIES = 512


def blas_info():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return [
        {key: pool.get(key) for key in ("internal_api", "architecture", "num_threads", "version")}
        for pool in threadpoolctl.threadpool_info()
    ]


def main():
    spec = json.loads(sys.argv[1])
    train = np.fromfile(spec["trainPath"], dtype=np.float32).reshape(spec["count"], spec["dim"])
    queries = np.fromfile(spec["queriesPath"], dtype=np.float32).reshape(spec["queryCount"], spec["dim"])
    warm_up = faiss.IndexFlatL2(spec["dim"])
    warm_up.add(train[:WARM_UP_POINTS])
    warm_up.search(queries[:WARM_UP_QUERIES], spec["k"])
    del warm_up
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    start = time.perf_counter()
    index = faiss.IndexFlatL2(spec["dim"])
    index.add(train)
    added = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    _, found = index.search(queries, spec["k"])
    searched = time.perf_counter()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if spec.get("indicesOut"):
        found.astype(np.int32).tofile(spec["indicesOut"])
    print(json.dumps({
        "version": faiss.__version__,
        "ompThreads": faiss.omp_get_max_threads(),
        "blas": blas_info(),
        "addMs": (added - start) * 1000,
        "searchMs": (searched - added) * 1000,
        "searchCoresBusy": cpu_seconds / (searched - added),
        "rssBeforeBytes": rss_before_kb * 1024,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
