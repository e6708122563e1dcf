import type { Manifest, Metrics, Serving, Split, TrainingResult } from '../../../src/artifacts';
import {
  parsePredictionsCsv,
  ReportInputError,
  reportInputFromArtifacts,
  type ManifestArtifact,
  type MetricsArtifact,
  type ServingArtifact,
  type SplitArtifact,
  type TrainingArtifact,
} from '../../../src/report';
import { PipelineError } from '../../../src/errors';
import { housingArtifacts, irisArtifacts } from './fixtures';

// Compile-time: the artifacts as the codec decodes them are accepted as they are (checked by `npm run typecheck`).
export const manifestFits = (manifest: Manifest): ManifestArtifact => manifest;
export const splitFits = (split: Split): SplitArtifact => split;
export const metricsFit = (metrics: Metrics): MetricsArtifact => metrics;
export const servingFits = (serving: Serving): ServingArtifact => serving;
export const trainingResultFits = (training: TrainingResult): TrainingArtifact => training;

describe('parsePredictionsCsv', () => {
  test('reads a classifier table, with labels that contain commas and quotes', () => {
    const csv = 'row,a,"b, c",true_label,predicted_label,match\n0,1.5,2,"x, ""y""",z,false\n1,3,4,z,z,true\n';
    expect(parsePredictionsCsv(csv, 'classifier')).toEqual([
      { row: 0, features: [1.5, 2], trueLabel: 'x, "y"', predictedLabel: 'z', match: false },
      { row: 1, features: [3, 4], trueLabel: 'z', predictedLabel: 'z', match: true },
    ]);
  });

  test('reads a regressor table with its error column', () => {
    const csv = 'row,rooms,true_value,predicted_value,error\n0,3,10,12.5,2.5\n';
    expect(parsePredictionsCsv(csv, 'regressor')).toEqual([
      { row: 0, features: [3], trueValue: 10, predictedValue: 12.5, error: 2.5 },
    ]);
  });

  test('refuses a table of the other predictor type or with a non-numeric feature, naming the problem', () => {
    const classifierCsv = 'row,a,true_label,predicted_label,match\n0,1,x,x,true\n';
    expect(() => parsePredictionsCsv(classifierCsv, 'regressor')).toThrow(ReportInputError);
    expect(() => parsePredictionsCsv(classifierCsv, 'regressor')).toThrow(/true_value, predicted_value, error/);
    expect(() => parsePredictionsCsv('row,a,true_label,predicted_label,match\n0,abc,x,x,true\n', 'classifier')).toThrow(
      /record 1: "abc" is not a number/,
    );
  });

  test('its error is a PipelineError named ReportInputError (the errorType Lambda reports) and keeps a cause', () => {
    let thrown: unknown;
    try {
      parsePredictionsCsv('row,a,true_label,predicted_label,match\n0,1,x,x,true\n', 'regressor');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PipelineError);
    expect(thrown).toMatchObject({ name: 'ReportInputError' });
    const cause = new SyntaxError('Unexpected token');
    expect(new ReportInputError('metrics.json is not JSON', { cause })).toMatchObject({
      name: 'ReportInputError',
      message: 'metrics.json is not JSON',
      cause,
    });
  });
});

describe('reportInputFromArtifacts', () => {
  test('builds the whole input from what a classifier run wrote', () => {
    const artifacts = irisArtifacts();
    const input = reportInputFromArtifacts(artifacts);
    expect(input.runId).toBe('iris-report-test');
    expect(input.dataset).toEqual({
      sourceUri: 's3://knn-pipeline-data/raw/iris-report-test.csv',
      rowCount: 150,
      featureNames: ['Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width'],
      labelColumn: 'Species',
      classes: ['setosa', 'versicolor', 'virginica'],
      classCounts: { setosa: 50, versicolor: 50, virginica: 50 },
      warnings: [],
    });
    // The prepared dataset's class indices come back as class names, every row.
    expect(input.featureRows.origin).toBe('dataset');
    expect(input.featureRows.points).toHaveLength(150);
    expect(input.featureRows.points[0]).toEqual({ features: [5.1, 3.5, 1.4, 0.2], target: 'setosa' });
    expect(input.split).toEqual({ trainRows: 112, testRows: 38, seed: 0, testFraction: 0.25 });
    expect(input.training).toEqual({
      trainingJobName: 'knnp-dev-iris-report-test',
      hyperParameters: artifacts.hyperParameters,
      finalMetrics: [{ MetricName: 'test:accuracy', Value: 0.95 }],
      billableSeconds: 97,
      statusTransitions: [],
    });
    expect(input.outcome.predictorType).toBe('classifier');
    expect(input.outcome.validation).toHaveLength(38);
    expect(input.gate).toBe(artifacts.metrics.gate);
    expect(input.executionPath).toBe(artifacts.executionPath);
    expect(input.cost).toBe(artifacts.cost);
  });

  test('falls back to the test rows for the scatter matrix and takes split counts as they are', () => {
    const { preparedFeaturesCsv: _features, preparedLabels: _labels, ...artifacts } = irisArtifacts();
    const input = reportInputFromArtifacts({
      ...artifacts,
      split: { seed: 3, testFraction: 0.2, trainRows: 120, testRows: 30 },
    });
    expect(input.featureRows.origin).toBe('test rows');
    expect(input.featureRows.points).toHaveLength(38);
    expect(input.split).toEqual({ trainRows: 120, testRows: 30, seed: 3, testFraction: 0.2 });
  });

  test('reads the training summary from metrics.json when none is passed, with status history when present', () => {
    const { hyperParameters: _h, training: _t, ...artifacts } = irisArtifacts();
    const transitions = [
      { Status: 'Training', StartTime: '2026-01-02T03:00:00Z', StatusMessage: 'Training image download completed.' },
    ];
    const metrics = {
      ...artifacts.metrics,
      training: { ...artifacts.metrics.training, SecondaryStatusTransitions: transitions },
    };
    const input = reportInputFromArtifacts({ ...artifacts, metrics });
    expect(input.training).toMatchObject({
      trainingJobName: 'knnp-dev-iris-report-test',
      billableSeconds: 97,
      hyperParameters: {},
      statusTransitions: transitions,
    });
  });

  test('builds a regressor input with numeric targets', () => {
    const input = reportInputFromArtifacts(housingArtifacts());
    expect(input.dataset.classes).toBeNull();
    expect(input.outcome.predictorType).toBe('regressor');
    expect(typeof input.featureRows.points[0].target).toBe('number');
  });

  test('refuses metrics of one predictor type with predictions of the other', () => {
    const iris = irisArtifacts();
    expect(() =>
      reportInputFromArtifacts({ ...iris, metrics: { ...iris.metrics, predictorType: 'regressor' } }),
    ).toThrow(ReportInputError);
  });
});
