/** k-fold cross-validation through the local cloud: a Map of fold training jobs, then the usual endpoint run. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLocal } from '../../cli/start/runLocal';
import { kFold } from '../../src/domain/split';
import { hasPythonModules, runPython } from '../support/python';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;
let summary: Awaited<ReturnType<typeof runLocal>>;
const progress: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'knn-cv-'));
  summary = await runLocal({ data: path.join(ROOT, 'data/iris.csv'), folds: '5', dir }, (line) => progress.push(line));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('five fold training jobs run (at most two at a time), then the final model is deployed, evaluated and deleted', () => {
  expect(summary.status).toBe('SUCCEEDED');
  const folds = summary.states.filter((s: { state: string }) => s.state === 'TrainFold');
  expect(folds).toHaveLength(5);
  expect(summary.states.map((s: { state: string }) => s.state)).toEqual(
    expect.arrayContaining(['CrossValidate', 'Train', 'Evaluate', 'CleanUp']),
  );
  expect((summary.metrics as { accuracy: number }).accuracy).toBe(0.9736842105263158);
  expect(summary.leftovers).toEqual({ endpoints: [], endpointConfigs: [], models: [] });
  // The progress view shows the Map iterations as they run.
  expect(progress.filter((line) => /▸ CrossValidate #\d started/.test(line))).toHaveLength(5);
  expect(progress.filter((line) => /✔ +TrainFold #\d/.test(line))).toHaveLength(5);
});

test('fold assignment is scikit-learn KFold(5, shuffle=True, random_state=seed) and reported per fold with mean ± std', () => {
  const root = summary.artifacts.root.local!;
  const split = JSON.parse(readFileSync(path.join(root, 'prepared/split.json'), 'utf8'));
  expect(split.folds).toEqual(Array.from({ length: 5 }, () => ({ trainRows: 120, testRows: 30 })));
  // Each fold's channels hold exactly KFold's rows, in file order.
  const features = readFileSync(path.join(root, 'prepared/features.csv'), 'utf8').trimEnd().split('\n');
  const labels = new Float64Array(Uint8Array.from(readFileSync(path.join(root, 'prepared/labels.f64'))).buffer);
  const rowsOf = (indices: number[]) => indices.map((row) => `${labels[row]},${features[row]}\n`).join('');
  kFold(150, 5, 0).forEach((fold, index) => {
    const channel = (name: string) =>
      readFileSync(path.join(root, `input/cv/fold-${index + 1}/${name}/${name}.csv`), 'utf8');
    expect([channel('test'), channel('train')]).toEqual([rowsOf(fold.test), rowsOf(fold.train)]);
  });
  const cv = summary.crossValidation!;
  expect(cv.perFold.map((f) => [f.fold, f.testRows])).toEqual([
    [1, 30],
    [2, 30],
    [3, 30],
    [4, 30],
    [5, 30],
  ]);
  const accuracies = cv.perFold.map((f) => f.metrics.accuracy);
  const mean = accuracies.reduce((a: number, b: number) => a + b, 0) / 5;
  expect(cv.metrics.accuracy.mean).toBeCloseTo(mean, 12);
  expect(cv.message).toMatch(/^5-fold cross-validation: accuracy 0\.\d{4} ± 0\.\d{4}/);
});

(hasPythonModules('sklearn', 'numpy') ? test : test.skip)(
  'per-fold accuracy equals scikit-learn cross_val_score with k=1',
  () => {
    const expected = JSON.parse(
      runPython(`
import csv, json
import numpy as np
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import LabelEncoder
rows = list(csv.reader(open(${JSON.stringify(path.join(ROOT, 'data/iris.csv'))})))[1:]
X = np.array([[float(v) for v in r[:4]] for r in rows]); y = LabelEncoder().fit_transform([r[4] for r in rows])
s = cross_val_score(KNeighborsClassifier(n_neighbors=1, algorithm='brute'), X, y, cv=KFold(5, shuffle=True, random_state=0))
print(json.dumps({'scores': s.tolist(), 'mean': s.mean(), 'std': s.std()}))
`),
    );
    const cv = summary.crossValidation!;
    cv.perFold.forEach((fold, i) => expect(fold.metrics.accuracy).toBeCloseTo(expected.scores[i], 12));
    expect(cv.metrics.accuracy.mean).toBeCloseTo(expected.mean, 12);
    expect(cv.metrics.accuracy.std).toBeCloseTo(expected.std, 12);
    expect(cv.highSpread).toBe(expected.std > 0.05);
  },
);
