import { classificationMetrics, float32Repr, MetricsError, regressionMetrics } from '../../../src/domain/metrics';
import { describeWithPython, numpyPython, runPython, sklearnPython } from './python';

/** Expands a confusion matrix into (true, predicted) pairs. */
function pairsFromConfusion(matrix: number[][]): { yTrue: number[]; yPred: number[] } {
  const yTrue: number[] = [];
  const yPred: number[] = [];
  matrix.forEach((row, truth) =>
    row.forEach((count, predicted) => {
      for (let k = 0; k < count; k++) {
        yTrue.push(truth);
        yPred.push(predicted);
      }
    }),
  );
  return { yTrue, yPred };
}

/** Deterministic pseudo-random integers for generated cases. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('classificationMetrics', () => {
  test('Iris reference: 38 test rows, one versicolor taken for virginica', () => {
    const { yTrue, yPred } = pairsFromConfusion([
      [13, 0, 0],
      [0, 15, 1],
      [0, 0, 9],
    ]);
    const metrics = classificationMetrics(yTrue, yPred);
    expect(metrics.accuracy).toBe(0.9736842105263158);
    expect(metrics.macroF1).toBeCloseTo(0.97170347, 6);
    expect(float32Repr(metrics.macroF1)).toBe('0.97170347');
    expect(metrics.confusionMatrix).toEqual([
      [13, 0, 0],
      [0, 15, 1],
      [0, 0, 9],
    ]);
    expect(metrics.perClass[1]).toEqual({ label: 1, precision: 1, recall: 15 / 16, f1: 30 / 31, support: 16 });
    expect(metrics.perClass[2].precision).toBe(0.9);
  });

  test('a class never predicted has precision 0; a class with no support has recall 0 and F1 0', () => {
    const metrics = classificationMetrics([0, 0, 1, 1], [1, 1, 1, 1], 3);
    expect(metrics.perClass[0]).toEqual({ label: 0, precision: 0, recall: 0, f1: 0, support: 2 });
    expect(metrics.perClass[2]).toEqual({ label: 2, precision: 0, recall: 0, f1: 0, support: 0 });
    expect(metrics.perClass[1].precision).toBe(0.5);
    expect(metrics.macroPrecision).toBeCloseTo(0.5 / 3, 15);
    expect(metrics.weightedPrecision).toBe(0.25);
  });

  test('class count is inferred from the largest label in either array', () => {
    expect(classificationMetrics([0, 1], [0, 3]).confusionMatrix).toHaveLength(4);
  });

  test('a prediction outside [0, C) or not an integer counts as wrong and gets no column', () => {
    const metrics = classificationMetrics([0, 1, 1, 1], [0, 1, -1, 0.5], 2);
    expect(metrics.accuracy).toBe(0.5);
    expect(metrics.confusionMatrix).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(metrics.perClass[1]).toMatchObject({ precision: 1, recall: 1 / 3, support: 3 });
  });

  test.each([
    [[0, 1], [0], undefined, /yTrue has 2 values but yPred has 1/],
    [[], [], undefined, /empty/],
    [[0, 3], [0, 1], 2, /yTrue\[1\] = 3 is not a class index/],
    [[0, -1], [0, 1], undefined, /yTrue\[1\] = -1/],
    [[0, 1], [0, 1], 0, /classCount must be a positive integer/],
  ])('rejects yTrue %p, yPred %p, classCount %p', (yTrue, yPred, classCount, message) => {
    expect(() => classificationMetrics(yTrue, yPred, classCount)).toThrow(MetricsError);
    expect(() => classificationMetrics(yTrue, yPred, classCount)).toThrow(message);
  });

  test('accepts typed arrays', () => {
    expect(classificationMetrics(Int32Array.from([0, 1, 1]), Float64Array.from([0, 1, 0])).accuracy).toBeCloseTo(
      2 / 3,
      15,
    );
  });
});

describe('regressionMetrics', () => {
  test('computes MSE, RMSE, MAE and R²', () => {
    const metrics = regressionMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    expect(metrics.mse).toBe(0.375);
    expect(metrics.rmse).toBe(Math.sqrt(0.375));
    expect(metrics.mae).toBe(0.5);
    expect(metrics.r2).toBeCloseTo(0.9486081370449679, 14);
  });

  test('R² is 1 for a perfect fit of a constant target and 0 otherwise, as in sklearn', () => {
    expect(regressionMetrics([2, 2, 2], [2, 2, 2]).r2).toBe(1);
    expect(regressionMetrics([2, 2, 2], [2, 2, 3]).r2).toBe(0);
  });

  test('rejects mismatched or empty inputs', () => {
    expect(() => regressionMetrics([1], [1, 2])).toThrow(MetricsError);
    expect(() => regressionMetrics([], [])).toThrow(MetricsError);
  });
});

describe('float32Repr', () => {
  test.each([
    [0.9717034521788, '0.97170347'],
    [0.9736842105263158, '0.9736842'],
    [0.1, '0.1'],
    [1, '1.0'],
    [100, '100.0'],
    [-2.5, '-2.5'],
    [0, '0.0'],
    [-0, '-0.0'],
    [1e6, '1e+06'],
    [999999, '999999.0'],
    [123456789, '1.2345679e+08'],
    [1e-4, '1e-04'],
    [0.001, '0.001'],
    [1.5e-45, '1e-45'],
    [Number.NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ])('float32Repr(%p) = %p', (value, expected) => {
    expect(float32Repr(value)).toBe(expected);
  });

  test('the result reads back as the same float32', () => {
    const random = lcg(5);
    for (let i = 0; i < 2000; i++) {
      const value = (random() - 0.5) * 10 ** Math.floor(random() * 20 - 10);
      expect(Math.fround(Number(float32Repr(value)))).toBe(Math.fround(value));
    }
  });
});

describeWithPython(numpyPython, 'numpy', 'float32Repr against numpy', (python) => {
  const random = lcg(11);
  const values: number[] = [];
  for (let i = 0; i < 3000; i++) values.push((random() - 0.5) * 10 ** (random() * 90 - 50));
  for (let exponent = -149; exponent <= 127; exponent++) values.push(2 ** exponent, -(2 ** exponent));
  values.push(3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38, 16777216, 16777217, 0.3, 2 / 3);
  const expected = runPython(
    python,
    'import numpy as np\nprint(json.dumps([str(np.float32(v)) for v in data]))',
    values,
  ) as string[];

  test(`matches str(np.float32(v)) for ${values.length} values`, () => {
    const mismatches = values
      .map((v, i) => [v, float32Repr(v), expected[i]])
      .filter(([, ours, theirs]) => ours !== theirs);
    expect(mismatches).toEqual([]);
  });
});

describeWithPython(sklearnPython, 'scikit-learn', 'classificationMetrics against scikit-learn', (python) => {
  const random = lcg(3);
  const cases = Array.from({ length: 40 }, (_, i) => {
    const classes = 2 + Math.floor(random() * 6);
    const n = 1 + Math.floor(random() * 200);
    const yTrue = Array.from({ length: n }, () => Math.floor(random() * classes));
    // Some cases predict labels outside [0, C) to check they count as wrong the way sklearn's labels= does.
    const outOfRange = i % 4 === 0;
    const yPred = yTrue.map((t) =>
      random() < 0.6
        ? t
        : outOfRange && random() < 0.3
          ? random() < 0.5
            ? -1
            : classes
          : Math.floor(random() * classes),
    );
    return { classes, yTrue, yPred };
  });
  const expected = runPython(
    python,
    `from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
out = []
for c in data:
    labels = list(range(c["classes"]))
    p, r, f, s = precision_recall_fscore_support(c["yTrue"], c["yPred"], labels=labels, zero_division=0)
    averages = {a: precision_recall_fscore_support(c["yTrue"], c["yPred"], labels=labels, average=a, zero_division=0)[:3] for a in ("macro", "weighted")}
    out.append({"accuracy": accuracy_score(c["yTrue"], c["yPred"]), "p": p.tolist(), "r": r.tolist(), "f": f.tolist(), "s": s.tolist(),
                "macro": list(averages["macro"]), "weighted": list(averages["weighted"]),
                "cm": confusion_matrix(c["yTrue"], c["yPred"], labels=labels).tolist()})
print(json.dumps(out))`,
    cases,
  ) as Array<{
    accuracy: number;
    p: number[];
    r: number[];
    f: number[];
    s: number[];
    macro: number[];
    weighted: number[];
    cm: number[][];
  }>;

  test.each(cases.map((c, i) => [i, c] as const))('case %p', (i, c) => {
    const ours = classificationMetrics(c.yTrue, c.yPred, c.classes);
    const theirs = expected[i];
    expect(ours.confusionMatrix).toEqual(theirs.cm);
    expect(ours.accuracy).toBeCloseTo(theirs.accuracy, 12);
    ours.perClass.forEach((m, label) => {
      expect(m.precision).toBeCloseTo(theirs.p[label], 12);
      expect(m.recall).toBeCloseTo(theirs.r[label], 12);
      expect(m.f1).toBeCloseTo(theirs.f[label], 12);
      expect(m.support).toBe(theirs.s[label]);
    });
    expect([ours.macroPrecision, ours.macroRecall, ours.macroF1].map((v, k) => v - theirs.macro[k])).toEqual(
      [0, 0, 0].map(() => expect.closeTo(0, 12)),
    );
    expect(
      [ours.weightedPrecision, ours.weightedRecall, ours.weightedF1].map((v, k) => v - theirs.weighted[k]),
    ).toEqual([0, 0, 0].map(() => expect.closeTo(0, 12)));
  });

  test('regressionMetrics matches sklearn', () => {
    const yTrue = Array.from({ length: 300 }, () => random() * 100 - 50);
    const yPred = yTrue.map((v) => v + (random() - 0.5) * 10);
    const [mse, mae, r2] = runPython(
      python,
      'from sklearn.metrics import mean_squared_error, mean_absolute_error, r2_score\nt, p = data\nprint(json.dumps([mean_squared_error(t, p), mean_absolute_error(t, p), r2_score(t, p)]))',
      [yTrue, yPred],
    ) as number[];
    const ours = regressionMetrics(yTrue, yPred);
    expect(ours.mse).toBeCloseTo(mse, 10);
    expect(ours.mae).toBeCloseTo(mae, 10);
    expect(ours.r2).toBeCloseTo(r2, 12);
  });
});
