import { createHash } from 'node:crypto';
import { foldOfRows, kFold, SplitError, trainTestRows, trainTestSplit } from '../../../src/domain/split';
import { describeWithPython, numpyPython, runPython, sklearnPython } from './python';

describe('trainTestSplit', () => {
  test('matches sklearn train_test_split(range(10), test_size=0.3, random_state=0)', () => {
    expect(trainTestSplit(10, { testFraction: 0.3, seed: 0 })).toEqual({
      test: [2, 8, 4],
      train: [9, 1, 6, 7, 3, 0, 5],
    });
  });

  test('rounds the test size up, like sklearn', () => {
    const split = trainTestSplit(150, { testFraction: 0.25, seed: 42 });
    expect(split.test).toHaveLength(38);
    expect(split.train).toHaveLength(112);
    expect(new Set([...split.train, ...split.test]).size).toBe(150);
  });

  test.each([0, 1, -0.1, 1.5, Number.NaN])('rejects testFraction %p', (testFraction) => {
    expect(() => trainTestSplit(10, { testFraction, seed: 0 })).toThrow(SplitError);
  });

  test('rejects a split that leaves no training row', () => {
    expect(() => trainTestSplit(2, { testFraction: 0.9, seed: 0 })).toThrow(/leaves no training row/);
  });

  test('rejects fewer than two rows', () => {
    expect(() => trainTestSplit(1, { testFraction: 0.5, seed: 0 })).toThrow(/at least 2 rows/);
  });
});

describe('kFold', () => {
  test('matches sklearn KFold(3, shuffle=True, random_state=0) on 10 rows', () => {
    expect(kFold(10, 3, 0)).toEqual([
      { train: [0, 1, 3, 5, 6, 7], test: [2, 4, 8, 9] },
      { train: [0, 2, 3, 4, 5, 8, 9], test: [1, 6, 7] },
      { train: [1, 2, 4, 6, 7, 8, 9], test: [0, 3, 5] },
    ]);
  });

  test('test folds partition the rows', () => {
    const folds = kFold(103, 5, 9);
    expect(folds.map((f) => f.test.length)).toEqual([21, 21, 21, 20, 20]);
    expect(folds.flatMap((f) => f.test).sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    for (const fold of folds) expect(fold.train.length + fold.test.length).toBe(103);
  });

  test.each([
    [5, 1],
    [5, 6],
    [5, 2.5],
  ])('rejects %p rows in %p folds', (rows, folds) => {
    expect(() => kFold(rows, folds, 0)).toThrow(SplitError);
  });
});

const SPLIT_CASES = [
  { n: 10, f: 0.3, seed: 0 },
  { n: 150, f: 0.25, seed: 42 },
  { n: 150, f: 0.2, seed: 1 },
  { n: 1000, f: 0.1, seed: 4294967295 },
  { n: 7, f: 0.5, seed: 2147483647 },
  { n: 100000, f: 0.33, seed: 3 },
];
const KFOLD_CASES = [
  { n: 10, k: 3, seed: 0 },
  { n: 150, k: 5, seed: 42 },
  { n: 17, k: 4, seed: 1 },
  { n: 1000, k: 10, seed: 4294967295 },
];

describeWithPython(sklearnPython, 'scikit-learn', 'splits against scikit-learn', (python) => {
  const expected = runPython(
    python,
    `from sklearn.model_selection import KFold, train_test_split
splits = [dict(zip(("train", "test"), (list(map(int, part)) for part in train_test_split(range(c["n"]), test_size=c["f"], shuffle=True, random_state=c["seed"])))) for c in data["splits"]]
folds = [[{"train": tr.tolist(), "test": te.tolist()} for tr, te in KFold(c["k"], shuffle=True, random_state=c["seed"]).split(range(c["n"]))] for c in data["folds"]]
print(json.dumps({"splits": splits, "folds": folds}))`,
    { splits: SPLIT_CASES, folds: KFOLD_CASES },
  ) as { splits: unknown[]; folds: unknown[] };

  test.each(SPLIT_CASES.map((c, i) => [c, i] as const))('train_test_split %p', (c, i) => {
    expect(trainTestSplit(c.n, { testFraction: c.f, seed: c.seed })).toEqual(expected.splits[i]);
  });
  test.each(KFOLD_CASES.map((c, i) => [c, i] as const))('KFold %p', (c, i) => {
    expect(kFold(c.n, c.k, c.seed)).toEqual(expected.folds[i]);
  });
});

// scikit-learn's split rules restated over numpy's permutation: runs where numpy exists without scikit-learn too.
describeWithPython(numpyPython, 'numpy', 'splits against a numpy restatement of scikit-learn', (python) => {
  const expected = runPython(
    python,
    `import math, numpy as np
splits = []
for c in data["splits"]:
    p = np.random.RandomState(c["seed"]).permutation(c["n"]).tolist()
    t = math.ceil(c["f"] * c["n"])
    splits.append({"train": p[t:], "test": p[:t]})
folds = []
for c in data["folds"]:
    p = np.random.RandomState(c["seed"]).permutation(c["n"])
    sizes = [c["n"] // c["k"] + (1 if i < c["n"] % c["k"] else 0) for i in range(c["k"])]
    bounds = np.cumsum([0] + sizes)
    chunks = [set(p[bounds[i]:bounds[i + 1]].tolist()) for i in range(c["k"])]
    folds.append([{"train": [r for r in range(c["n"]) if r not in ch], "test": sorted(ch)} for ch in chunks])
print(json.dumps({"splits": splits, "folds": folds}))`,
    { splits: SPLIT_CASES, folds: KFOLD_CASES },
  ) as { splits: unknown[]; folds: unknown[] };

  test.each(SPLIT_CASES.map((c, i) => [c, i] as const))('train_test_split %p', (c, i) => {
    expect(trainTestSplit(c.n, { testFraction: c.f, seed: c.seed })).toEqual(expected.splits[i]);
  });
  test.each(KFOLD_CASES.map((c, i) => [c, i] as const))('KFold %p', (c, i) => {
    expect(kFold(c.n, c.k, c.seed)).toEqual(expected.folds[i]);
  });
});

// Large n, compared by digest: the rows as little-endian int32, as trainTestRows and foldOfRows hold them.
const LARGE_CASES = [
  { n: 2_000_003, f: 0.25, seed: 0, k: 5 },
  { n: 1_234_567, f: 0.1, seed: 4294967295, k: 3 },
];
const digest = (rows: Int32Array) =>
  createHash('sha256')
    .update(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength))
    .digest('hex');

describeWithPython(sklearnPython, 'scikit-learn', 'splits on large n against scikit-learn', (python) => {
  const expected = runPython(
    python,
    `import hashlib, numpy as np
from sklearn.model_selection import KFold, train_test_split
h = lambda a: hashlib.sha256(np.asarray(a, dtype="<i4").tobytes()).hexdigest()
out = []
for c in data:
    train, test = train_test_split(np.arange(c["n"]), test_size=c["f"], shuffle=True, random_state=c["seed"])
    fold = np.empty(c["n"], dtype="<i4")
    for f, (_, held) in enumerate(KFold(c["k"], shuffle=True, random_state=c["seed"]).split(np.zeros(c["n"]))):
        fold[held] = f
    out.append({"train": h(train), "test": h(test), "fold": h(fold)})
print(json.dumps(out))`,
    LARGE_CASES,
  ) as { train: string; test: string; fold: string }[];

  test.each(LARGE_CASES.map((c, i) => [c, i] as const))('train_test_split and KFold %p', (c, i) => {
    const rows = trainTestRows(c.n, { testFraction: c.f, seed: c.seed });
    expect({ train: digest(rows.train), test: digest(rows.test), fold: digest(foldOfRows(c.n, c.k, c.seed)) }).toEqual(
      expected[i],
    );
  });
});
