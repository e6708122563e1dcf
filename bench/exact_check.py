"""Checks every query's k neighbours against exact brute force (float64), for one or more result files.

Usage: python3 exact_check.py SPEC_JSON  (fields: trainPath, queriesPath, count, dim, queryCount, k, and results: a
list of {name, indicesPath} with int32 indices, queryCount × k, best first). Prints one JSON line: per result, the
queries checked, those whose k indices equal brute force's in order, and the mismatches (at most 5 shown).

A row passes when its indices are distinct stored points, best first, and their exact distances equal the k smallest
exact distances position by position within float32 rounding: |d − d*| ≤ 2·(dim + 2)·2⁻²⁴·d* (plus a tiny absolute
term). So a tie may be broken either way only where the two distances are equal within float32 rounding. Exact
distances are float64 ‖x‖² + ‖q‖² − 2q·x over blocks of queries (error ~1e-16 relative, far below the tolerance),
and each returned point's distance is re-computed from direct float64 differences.
"""
import json
import sys

import numpy as np

BLOCK_ELEMENTS = 8_000_000  # queries per block × stored points: 64 MB of float64 distances, reused


def main():
    spec = json.loads(sys.argv[1])
    count, dim, query_count, k = spec["count"], spec["dim"], spec["queryCount"], spec["k"]
    train = np.fromfile(spec["trainPath"], dtype=np.float32).reshape(count, dim).astype(np.float64)
    queries = np.fromfile(spec["queriesPath"], dtype=np.float32).reshape(query_count, dim).astype(np.float64)
    results = [
        {"name": r["name"], "indices": np.fromfile(r["indicesPath"], dtype=np.int32).reshape(query_count, k)}
        for r in spec["results"]
    ]
    for result in results:
        result.update(identical=0, mismatches=0, examples=[])
    tolerance = 2 * (dim + 2) * 2.0 ** -24
    train_norms = (train * train).sum(axis=1)
    absolute = 1e-12 * (train_norms.max() + 1)
    block = max(1, BLOCK_ELEMENTS // count)
    # Preallocated and computed in place: fresh 100 MB arrays per block would cost more in page faults than the math.
    distance_buffer = np.empty((block, count))
    mask_buffer = np.empty((block, count), dtype=bool)
    train_transposed = np.ascontiguousarray(train.T)
    for first in range(0, query_count, block):
        q = queries[first:first + block]
        distances = distance_buffer[:q.shape[0]]
        np.matmul(q, train_transposed, out=distances)
        distances *= -2.0
        distances += train_norms[None, :]
        distances += (q * q).sum(axis=1)[:, None]
        checked = []
        for result in results:
            ids = result["indices"][first:first + block]
            valid = (ids >= 0) & (ids < count)
            returned = np.full(ids.shape, np.inf)
            rows = np.nonzero(valid.all(axis=1))[0]
            if rows.size:
                difference = train[ids[rows]] - q[rows][:, None, :]
                returned[rows] = (difference * difference).sum(axis=2)
            # Best first: each distance at most the next one's (within float32 rounding).
            ordered = np.all(returned[:, :-1] <= returned[:, 1:] * (1 + tolerance) + absolute, axis=1)
            valid &= ordered[:, None]
            returned = np.sort(returned, axis=1)
            # Every exact distance within tolerance of the worst returned one: the true k best are among them.
            limit = returned[:, -1] * (1 + tolerance) + absolute
            checked.append((result, ids, valid, returned, limit))
        # One pass over the block's distances for all results: the points under the largest limit of each query.
        widest = np.max([entry[4] for entry in checked], axis=0)
        mask = mask_buffer[:q.shape[0]]
        np.less_equal(distances, widest[:, None], out=mask)
        near_rows, near_cols = np.nonzero(mask)
        bounds = np.searchsorted(near_rows, np.arange(q.shape[0] + 1))
        for result, ids, valid, returned, limit in checked:
            for row in range(q.shape[0]):
                row_ids = ids[row]
                near = near_cols[bounds[row]:bounds[row + 1]]
                near = near[distances[row][near] <= limit[row]]
                ok = bool(valid[row].all()) and len(set(row_ids.tolist())) == k and near.size >= k
                if ok:
                    # The exact k best, ties to the lower index: compared with the returned order for "identical".
                    exact_top = near[np.lexsort((near, distances[row][near]))][:k]
                    expected = distances[row][exact_top]
                    ok = bool(np.all(np.abs(returned[row] - expected) <= tolerance * expected + absolute))
                    if ok and np.array_equal(exact_top, row_ids):
                        result["identical"] += 1
                if not ok:
                    result["mismatches"] += 1
                    if len(result["examples"]) < 5:
                        result["examples"].append({"query": first + row, "indices": row_ids.tolist()})
    print(json.dumps({
        "queries": query_count,
        "tolerance": tolerance,
        "results": [
            {key: r[key] for key in ("name", "identical", "mismatches", "examples")} for r in results
        ],
    }))


if __name__ == "__main__":
    main()
