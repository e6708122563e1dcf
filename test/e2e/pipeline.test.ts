/**
 * End to end through the local cloud: the same definition and handlers as the deployed stage, entered the way
 * an upload enters in AWS (object under raw/ → S3 Object Created event → execution).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { runLocal } from '../../cli/start/runLocal';
import { hasPythonModules, runPython } from '../support/python';

const ROOT = path.resolve(__dirname, '../..');
/** What these checks read of a classifier run's metrics (a regressor run reports r2, rmse and mse instead). */
type ClassificationMetrics = { accuracy: number; macroF1: number; confusionMatrix: number[][] };
const quiet = () => undefined;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'knn-pipeline-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('Iris with the defaults reproduces the reference result and leaves nothing running', async () => {
  const summary = await runLocal({ data: path.join(ROOT, 'data/iris.csv'), dir }, quiet);
  const metrics = summary.metrics as ClassificationMetrics;

  expect(summary.status).toBe('SUCCEEDED');
  expect(summary.split).toEqual({ train: 112, test: 38 });
  expect(metrics.accuracy).toBe(0.9736842105263158);
  expect(metrics.macroF1).toBeCloseTo(0.97170347, 6);
  expect(metrics.confusionMatrix).toEqual([
    [13, 0, 0],
    [0, 15, 1],
    [0, 0, 9],
  ]);
  expect(summary.classes).toEqual(['setosa', 'versicolor', 'virginica']);
  expect(summary.leftovers).toEqual({ endpoints: [], endpointConfigs: [], models: [] });
  expect(summary.trainingLog.join('\n')).toContain("#test_score (algo-1) : ('accuracy', 0.9736842105263158)");
  expect(summary.trainingLog.join('\n')).toContain("#test_score (algo-1) : ('macro_f_1.000', 0.97170347)");

  const predictions = parse(readFileSync(summary.artifacts.predictions.local!), { columns: true }) as Record<
    string,
    string
  >[];
  expect(predictions).toHaveLength(38);
  const wrong = predictions.filter((row) => row.match !== 'true');
  expect(wrong).toHaveLength(1);
  expect(wrong[0]).toMatchObject({ true_label: 'versicolor', predicted_label: 'virginica' });
  // The raw upload is untouched; the channels are headerless and label first.
  const train = readFileSync(summary.artifacts.trainChannel.local!, 'utf8').trim().split('\n');
  expect(train).toHaveLength(112);
  expect(train[0].split(',')).toHaveLength(5);
  expect(['0', '1', '2']).toContain(train[0].split(',')[0]);
});

test('a regressor run on a second dataset predicts the numeric label and cleans up', async () => {
  const summary = await runLocal(
    {
      data: path.join(ROOT, 'test/fixtures/datasets/housing-regression.csv'),
      label: 'price',
      predictorType: 'regressor',
      k: '5',
      dir,
    },
    quiet,
  );
  expect(summary.status).toBe('SUCCEEDED');
  expect(summary.split).toEqual({ train: 180, test: 60 });
  const metrics = summary.metrics as { r2: number; rmse: number; mse: number };
  expect(metrics.r2).toBeGreaterThan(0.5);
  expect(metrics.rmse).toBeCloseTo(Math.sqrt(metrics.mse), 9);
  expect(summary.trainingLog.join('\n')).toMatch(/#test_score \(algo-1\) : \('mse', [0-9.e+]+\)/);
  expect(summary.leftovers).toEqual({ endpoints: [], endpointConfigs: [], models: [] });
});

const sklearn = hasPythonModules('sklearn', 'numpy');
(sklearn ? test : test.skip)(
  'a classifier on a dataset of our own (quoted headers, labels with spaces) agrees with scikit-learn row for row, and its weak score fails the quality gate',
  async () => {
    const data = path.join(ROOT, 'test/fixtures/datasets/fruit-classes.csv');
    const summary = await runLocal({ data, label: 'fruit kind', k: '3', seed: '5', testFraction: '0.3', dir }, quiet);
    // Unscaled features let the weight column dominate the distances: accuracy 0.75, below the 0.9 gate.
    expect(summary.status).toBe('FAILED');
    expect(summary.error).toBe('QualityGateNotMet');
    expect(summary.cause).toMatch(/^Quality gate not met: accuracy 0\.75 but must be at least 0\.9/);
    expect(summary.leftovers).toEqual({ endpoints: [], endpointConfigs: [], models: [] });
    expect(summary.classes).toEqual(['banana', 'blood orange', 'green apple', 'pear (conference)']);

    const expected = JSON.parse(
      runPython(
        `
import csv, json, sys
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import LabelEncoder
rows = list(csv.reader(open(${JSON.stringify(data)})))
header, body = rows[0], rows[1:]
li = header.index('fruit kind')
X = np.array([[float(v) for i, v in enumerate(r) if i != li] for r in body])
y = LabelEncoder().fit_transform([r[li] for r in body])
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, shuffle=True, random_state=5)
pred = KNeighborsClassifier(n_neighbors=3, algorithm='brute').fit(Xtr, ytr).predict(Xte)
print(json.dumps({'accuracy': float((pred == yte).mean()), 'pred': pred.tolist(), 'true': yte.tolist()}))
`,
      ),
    );
    const predictions = parse(readFileSync(summary.artifacts.predictions.local!), { columns: true }) as Record<
      string,
      string
    >[];
    const classes = summary.classes!;
    expect(predictions.map((row) => classes.indexOf(row.true_label))).toEqual(expected.true);
    expect(predictions.map((row) => classes.indexOf(row.predicted_label))).toEqual(expected.pred);
    expect((summary.metrics as ClassificationMetrics).accuracy).toBeCloseTo(expected.accuracy, 12);
  },
);

test('a training job that fails on a bad hyperparameter fails the run clearly and leaves no SageMaker resources', async () => {
  // k above sample_size passes Prepare's per-field checks but the algorithm rejects it, as SageMaker's does.
  const summary = await runLocal({ data: path.join(ROOT, 'data/iris.csv'), k: '50', sampleSize: '10', dir }, quiet);
  expect(summary.status).toBe('FAILED');
  expect(summary.error).toBe('States.TaskFailed');
  expect(summary.cause).toMatch(/^Train failed: training job \S+ ended Failed: ClientError: .*sample_size/);
  expect(summary.leftovers).toEqual({ endpoints: [], endpointConfigs: [], models: [] });
  expect(summary.states.map((s: { state: string }) => s.state)).toContain('CleanUpAfterFailure');
});
