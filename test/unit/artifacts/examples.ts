// One artifact of each kind, built by the pipeline's own domain code the way the handlers build them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Artifact, ArtifactName } from '../../../src/artifacts';
import { summariseCrossValidation } from '../../../src/domain/crossValidation';
import { prepareDataset, toLabelFirstCsv } from '../../../src/domain/dataset';
import { checkQualityGate, computeMetrics, predictionsCsv } from '../../../src/domain/evaluation';
import { decidePromotion } from '../../../src/domain/promotion';
import { foldSizes, trainTestSplit } from '../../../src/domain/split';

const IRIS = readFileSync(path.resolve(__dirname, '../../../data/iris.csv'), 'utf8');
const AT = '2026-11-29T17:00:00.000Z';
const dataset = {
  bucket: 'knn-pipeline-dev-data',
  key: 'raw/iris.csv',
  uri: 's3://knn-pipeline-dev-data/raw/iris.csv',
  versionId: 'v1',
  etag: '"abc"',
};

/** Iris prepared and split as the pipeline does, with the first test row predicted wrong. */
function irisRun() {
  const prepared = prepareDataset(IRIS, { source: dataset.uri, labelColumn: 'Species', predictorType: 'classifier' });
  const split = { testFraction: 0.25, seed: 0 };
  const indices = trainTestSplit(prepared.rowCount, split);
  const truth = indices.test.map((row) => prepared.labels[row]);
  const predicted = truth.map((label, index) => (index === 0 ? (label + 1) % 3 : label));
  return { prepared, classes: prepared.classes!, split, indices, truth, predicted };
}

/**
 * The data files of the same run: prepared/dataset.csv, prepared/features.csv with prepared/labels.f64, and
 * evaluation/predictions.csv.
 */
export function exampleCsvFiles(): {
  preparedDatasetCsv: string;
  preparedFeaturesCsv: string;
  preparedLabels: Uint8Array;
  predictionsCsv: string;
} {
  const { prepared, classes, indices, truth, predicted } = irisRun();
  return {
    preparedDatasetCsv: toLabelFirstCsv(prepared.labels, prepared.features),
    preparedFeaturesCsv: prepared.features.map((row) => `${row.join(',')}\n`).join(''),
    preparedLabels: new Uint8Array(new Float64Array(prepared.labels).buffer),
    predictionsCsv: predictionsCsv(
      'classifier',
      prepared.featureNames,
      indices.test.map((row) => prepared.features[row].join(',')),
      truth,
      predicted,
      classes,
    ),
  };
}

export function exampleArtifacts(): { [N in ArtifactName]: Artifact<N> } {
  const { prepared, classes, split, indices, truth, predicted } = irisRun();
  const metrics = computeMetrics('classifier', truth, predicted, classes);
  const gate = checkQualityGate({ metric: 'accuracy', threshold: 0.9, direction: 'min' }, { ...metrics });
  const promotion = decidePromotion(true, gate, {}, 'knnp-dev--serving');
  const crossValidation = summariseCrossValidation('classifier', [
    { fold: 1, trainingJobName: 'knnp-dev--run-1--f1', trainRows: 75, testRows: 75, finalMetrics: [] },
    {
      fold: 2,
      trainingJobName: 'knnp-dev--run-1--f2',
      trainRows: 75,
      testRows: 75,
      finalMetrics: [{ MetricName: 'test:accuracy', Value: 0.96 }],
    },
  ]);
  return {
    manifest: {
      runId: 'run-1',
      source: { ...dataset, size: IRIS.length },
      labelColumn: prepared.labelColumn,
      predictorType: 'classifier',
      featureNames: prepared.featureNames,
      classes,
      classCounts: Object.fromEntries(classes.map((name) => [name, 50])),
      rowCount: prepared.rowCount,
      warnings: prepared.warnings,
      preparedAt: AT,
    },
    split: {
      ...split,
      rowCount: prepared.rowCount,
      trainRows: indices.train.length,
      testRows: indices.test.length,
      folds: foldSizes(prepared.rowCount, 2),
    },
    claim: { executionName: 'run-1', dataset, claimedAt: AT },
    metrics: {
      runId: 'run-1',
      predictorType: 'classifier',
      dataset: { ...dataset, size: IRIS.length },
      endpoint: 'knnp-dev--run-1-endpoint',
      testRows: truth.length,
      invocations: 1,
      classes,
      metrics,
      gate,
      crossValidation,
      promotion,
      championMetrics: null,
      training: {
        TrainingJobName: 'knnp-dev--run-1',
        TrainingJobArn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/knnp-dev--run-1',
        S3ModelArtifacts: 's3://knn-pipeline-dev-data/runs/run-1/output/model.tar.gz',
        FinalMetricDataList: [{ MetricName: 'test:accuracy', Value: 0.9736842105263158 }],
        BillableTimeInSeconds: 97,
      },
      evaluatedAt: AT,
    },
    serving: {
      runId: 'run-1',
      promotion,
      servingEndpoint: 'knnp-dev--serving',
      outcome: 'promoted',
      succeeded: true,
      servingConfig: 'knnp-dev--run-1-serve',
      pruned: { retained: ['knnp-dev--run-1-serve'], deleted: [] },
      message: 'promoted',
      recordedAt: AT,
    },
    trials: {
      tuningJobName: 'knnp-dev--run-1-1c2d3e4f',
      strategy: 'Grid',
      objective: { type: 'Maximize', metricName: 'test:accuracy' },
      validationFraction: 0.2,
      sageMakerBestTrainingJob: 'knnp-dev--run-1-1c2d3e4f-002-0a1b2c3d',
      chosen: 'knnp-dev--run-1-1c2d3e4f-001-5e6f7a8b',
      trials: [
        {
          trainingJobName: 'knnp-dev--run-1-1c2d3e4f-001-5e6f7a8b',
          status: 'Completed',
          hyperParameters: { k: '1' },
          objective: 0.9565217391304348,
          chosen: true,
        },
        {
          trainingJobName: 'knnp-dev--run-1-1c2d3e4f-002-0a1b2c3d',
          status: 'Completed',
          hyperParameters: { k: '3' },
          objective: 0.9565217391304348,
          chosen: false,
        },
        {
          trainingJobName: 'knnp-dev--run-1-1c2d3e4f-003-9c8d7e6f',
          status: 'Failed',
          hyperParameters: { k: '5' },
          chosen: false,
        },
      ],
      recordedAt: AT,
    },
    transform: {
      format: 'knn-pipeline/feature-transform@1',
      inputFeatures: ['width', 'colour'],
      scaling: 'standard',
      numeric: [{ name: 'width', index: 0, center: 2.5, scale: 0.5, min: 2, max: 3 }],
      categorical: [{ name: 'colour', index: 1, categories: ['blue', 'red'] }],
      pca: {
        requested: 2,
        mean: [0, 0.5, 0.5],
        components: [
          [0.8, 0.3, -0.3],
          [0, 0.7071, 0.7071],
        ],
        explainedVariance: [1.2, 0.3, 0],
        explainedVarianceRatio: [0.8, 0.2, 0],
      },
      outputFeatures: ['pca0', 'pca1'],
      fittedOn: { channel: 'train', rows: 4 },
    },
  };
}
