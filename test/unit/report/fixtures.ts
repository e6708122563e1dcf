// Run artefacts made by the pipeline's own domain code (prepare, split, metrics, predictions.csv), with
// predictions that are the truth except for a few deliberate mistakes, so reports have realistic content.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { prepareDataset } from '../../../src/domain/dataset';
import { checkQualityGate, computeMetrics, predictionsCsv } from '../../../src/domain/evaluation';
import type { PredictorType } from '../../../src/artifacts';
import { trainTestSplit } from '../../../src/domain/split';
import type { ManifestArtifact, RunArtifacts } from '../../../src/report';

const ROOT = path.resolve(__dirname, '../../..');
export const IRIS_CSV = readFileSync(path.join(ROOT, 'data/iris.csv'), 'utf8');
export const HOUSING_CSV = readFileSync(path.join(ROOT, 'test/fixtures/datasets/housing-regression.csv'), 'utf8');
export const HOSTILE = '<script>alert(1)</script>';

export interface FixtureOptions {
  csv: string;
  labelColumn: string;
  predictorType: PredictorType;
  runId?: string;
  /** Every n-th test row is predicted wrong (classifier: the next class; regressor: 20 % too high). */
  missEvery?: number;
}

export function runArtifacts({
  csv,
  labelColumn,
  predictorType,
  runId = 'iris-report-test',
  missEvery = 9,
}: FixtureOptions): RunArtifacts {
  const source = `s3://knn-pipeline-data/raw/${runId}.csv`;
  const prepared = prepareDataset(csv, { source, labelColumn, predictorType });
  const rows = trainTestSplit(prepared.rowCount, { seed: 0, testFraction: 0.25 });
  const split = {
    seed: 0,
    testFraction: 0.25,
    rowCount: prepared.rowCount,
    trainRows: rows.train.length,
    testRows: rows.test.length,
  };
  const truth = rows.test.map((row) => prepared.labels[row]);
  const features = rows.test.map((row) => prepared.features[row]);
  const classCount = prepared.classes?.length ?? 0;
  const predicted = truth.map((label, index) => {
    if (index % missEvery !== missEvery - 1) return label;
    return predictorType === 'classifier' ? (label + 1) % classCount : label * 1.2;
  });
  const metrics = computeMetrics(predictorType, truth, predicted, prepared.classes);
  const gate = checkQualityGate(
    predictorType === 'classifier'
      ? { metric: 'accuracy', threshold: 0.9, direction: 'min' }
      : { metric: 'r2', threshold: 0.5, direction: 'min' },
    metrics as unknown as Record<string, unknown>,
  );
  const manifest: ManifestArtifact = {
    runId,
    source: { uri: source },
    labelColumn: prepared.labelColumn,
    predictorType,
    featureNames: prepared.featureNames,
    classes: prepared.classes,
    classCounts: prepared.classes
      ? Object.fromEntries(
          prepared.classes.map((name, index) => [name, prepared.labels.filter((label) => label === index).length]),
        )
      : null,
    rowCount: prepared.rowCount,
    warnings: prepared.warnings,
  };
  const trainingJobName = `knnp-dev-${runId}`;
  return {
    manifest,
    metrics: {
      runId,
      predictorType,
      metrics,
      gate,
      training: {
        TrainingJobName: trainingJobName,
        FinalMetricDataList: [
          { MetricName: predictorType === 'classifier' ? 'test:accuracy' : 'test:mse', Value: 0.95 },
        ],
        BillableTimeInSeconds: 97,
      },
    },
    predictionsCsv: predictionsCsv(
      predictorType,
      prepared.featureNames,
      features.map((row) => row.join(',')),
      truth,
      predicted,
      prepared.classes,
    ),
    // prepared/features.csv and prepared/labels.f64, as Prepare writes them.
    preparedFeaturesCsv: prepared.features.map((row) => `${row.join(',')}\n`).join(''),
    preparedLabels: new Float64Array(prepared.labels),
    split,
    hyperParameters: {
      k: '5',
      sample_size: '1000',
      predictor_type: predictorType,
      feature_dim: String(prepared.featureNames.length),
    },
    executionPath: [
      { state: 'Prepare', status: 'succeeded', durationMs: 850 },
      { state: 'Split', status: 'succeeded', durationMs: 120 },
      { state: 'Train', status: 'succeeded', durationMs: 185_000 },
      { state: 'CreateEndpoint', status: 'succeeded', durationMs: 300 },
      { state: 'WaitForEndpoint', status: 'succeeded', durationMs: 30_000 },
      { state: 'WaitForEndpoint', status: 'succeeded', durationMs: 30_000 },
      { state: 'Evaluate', status: 'succeeded', durationMs: 2_400 },
      { state: 'CleanUp', status: 'succeeded', durationMs: 1_100 },
    ],
    cost: {
      training: { instanceType: 'ml.m5.large', instanceCount: 1, seconds: 97 },
      endpoint: { instanceType: 'ml.m5.large', instanceCount: 1, seconds: 63.8 },
    },
    generatedAt: '2026-01-02T03:04:05Z',
  };
}

export const irisArtifacts = () => runArtifacts({ csv: IRIS_CSV, labelColumn: 'Species', predictorType: 'classifier' });
export const housingArtifacts = () =>
  runArtifacts({ csv: HOUSING_CSV, labelColumn: 'price', predictorType: 'regressor', runId: 'housing' });

/** Column and class names straight from a hostile user's CSV. */
export function hostileArtifacts(): RunArtifacts {
  const rows = Array.from({ length: 40 }, (_, i) => {
    const label = [HOSTILE, '"quoted", & comma', 'plain <b>bold</b>'][i % 3];
    return `${i % 7},${(i * 3) % 11},"${label.replace(/"/g, '""')}"`;
  });
  const csv = [`"a<b>","x&y ""z""","${HOSTILE}"`, ...rows].join('\n');
  return runArtifacts({ csv, labelColumn: HOSTILE, predictorType: 'classifier', runId: 'hostile', missEvery: 3 });
}
