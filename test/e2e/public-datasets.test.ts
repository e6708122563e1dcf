/**
 * Public labelled datasets (scikit-learn's bundled wine, breast cancer and digits) through `npm start`'s path,
 * compared row for row with an independent reference: scikit-learn's brute-force KNeighborsClassifier on the same
 * train_test_split. Needs Debian's python3-sklearn (skipped with a message otherwise).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { runLocal } from '../../cli/start/runLocal';
import { hasPythonModules, runPython } from '../support/python';

const available = hasPythonModules('sklearn', 'numpy');
if (!available)
  console.warn(
    'public-datasets.test.ts skipped: /usr/bin/python3 has no scikit-learn (apt-get install python3-sklearn)',
  );
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'knn-public-'));
});
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

const CASES = [
  { name: 'wine', k: 1, seed: 0 },
  { name: 'breast_cancer', k: 3, seed: 7 },
  // 1,347 training rows: sample_size must cover them all to compare with an index of every row.
  { name: 'digits', k: 1, seed: 0, sampleSize: 2000 },
];

(available ? test.each(CASES) : test.skip.each(CASES))(
  '$name (k=$k, seed $seed) agrees with scikit-learn on every test row',
  async ({ name, k, seed, sampleSize }) => {
    const csvFile = path.join(dir, `${name}.csv`);
    const expected = JSON.parse(
      runPython(`
import csv, json
import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
d = datasets.load_${name}()
names = [str(n) for n in getattr(d, 'feature_names', [f'pixel_{i}' for i in range(d.data.shape[1])])]
labels = [str(d.target_names[t]) for t in d.target]
with open(${JSON.stringify(csvFile)}, 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(names + ['label'])
    for x, y in zip(d.data, labels):
        w.writerow([repr(float(v)) for v in x] + [y])
classes = sorted(set(labels))
y = np.array([classes.index(l) for l in labels])
Xtr, Xte, ytr, yte = train_test_split(d.data, y, test_size=0.25, shuffle=True, random_state=${seed})
pred = KNeighborsClassifier(n_neighbors=${k}, algorithm='brute').fit(Xtr, ytr).predict(Xte)
print(json.dumps({'classes': classes, 'true': yte.tolist(), 'pred': pred.tolist(), 'accuracy': float((pred == yte).mean())}))
`),
    );
    const summary = await runLocal(
      { data: csvFile, label: 'label', k, seed, sampleSize, dir: path.join(dir, name) },
      () => undefined,
    );
    expect(summary.classes).toEqual(expected.classes);
    const predictions = parse(readFileSync(summary.artifacts.predictions.local!), { columns: true }) as Record<
      string,
      string
    >[];
    expect(predictions.map((row) => expected.classes.indexOf(row.true_label))).toEqual(expected.true);
    expect(predictions.map((row) => expected.classes.indexOf(row.predicted_label))).toEqual(expected.pred);
    expect((summary.metrics as { accuracy: number }).accuracy).toBeCloseTo(expected.accuracy, 12);
    expect(summary.leftovers).toEqual({ endpoints: [], endpointConfigs: [], models: [] });
  },
);
