import { prepareDataset } from '../../../src/domain/dataset';
import {
  assertDatasetSize,
  classCounts,
  claimOf,
  datasetManifest,
  datasetNotFound,
  withFeatureDim,
  withLocatedDataset,
} from '../../../src/domain/preparation';
import { resolveRunConfig } from '../../../src/domain/runConfig';
import { s3Event, testStageDefaults } from '../../support/stage';

const run = resolveRunConfig({}, { name: 'run-3' }, testStageDefaults());
const csv = 'a,b,Species\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,dog\n9,9,cat\n';

test('locating the dataset returns a new run with the key found and its version; the input run is unchanged', () => {
  const before = structuredClone(run);
  const located = withLocatedDataset(run, 'raw/iris.csv', { versionId: 'v7', etag: '"e"' });
  expect(located.dataset).toEqual({
    bucket: 'knn-pipeline-dev-data',
    key: 'raw/iris.csv',
    uri: 's3://knn-pipeline-dev-data/raw/iris.csv',
    versionId: 'v7',
    etag: '"e"',
  });
  expect(run).toEqual(before);
  // A HeadObject without a version keeps the version the input asked for.
  const pinned = resolveRunConfig({ dataset: { versionId: 'v1' } }, { name: 'run-3' }, testStageDefaults());
  expect(withLocatedDataset(pinned, 'raw/iris.csv', {}).dataset.versionId).toBe('v1');
});

test('an S3 event key that had to be decoded is the key the run reads', () => {
  const fromEvent = resolveRunConfig(s3Event('raw/my+data.csv'), { name: 'e' }, testStageDefaults());
  expect(withLocatedDataset(fromEvent, 'raw/my data.csv', {}).dataset.uri).toBe(
    's3://knn-pipeline-dev-data/raw/my data.csv',
  );
});

test('feature_dim and the SageMaker requests are added to a new run, never to the one passed in', () => {
  const finalRun = withFeatureDim(run, 4);
  expect(finalRun.training.hyperParameters).toEqual({ ...run.training.hyperParameters, feature_dim: '4' });
  expect(run.training.hyperParameters.feature_dim).toBeUndefined();
  expect(run.requests).toBeUndefined();
  expect(finalRun.requests?.trainingJob).toMatchObject({ HyperParameters: { feature_dim: '4' } });
});

test('too large a dataset is refused with the limit named; at the limit it is accepted', () => {
  expect(() => assertDatasetSize(run, 101, 100)).toThrow(
    expect.objectContaining({ name: 'DatasetTooLargeError', message: expect.stringMatching(/101 bytes.*at most 100/) }),
  );
  expect(() => assertDatasetSize(run, 100, 100)).not.toThrow();
  expect(datasetNotFound(run)).toMatchObject({
    name: 'DatasetNotFoundError',
    message: expect.stringMatching(/^Dataset s3:\/\/knn-pipeline-dev-data\/raw\/iris\.csv does not exist\. Upload/),
  });
});

test('the claim and the manifest describe the located dataset', () => {
  const located = withLocatedDataset(run, 'raw/iris.csv', { versionId: 'v2' });
  expect(claimOf(located, '2026-01-01T00:00:00.000Z')).toEqual({
    executionName: 'run-3',
    dataset: located.dataset,
    claimedAt: '2026-01-01T00:00:00.000Z',
  });
  const prepared = prepareDataset(csv, { source: 'x', labelColumn: 'Species', predictorType: 'classifier' });
  expect(datasetManifest(located, 42, prepared, '2026-01-01T00:00:00.000Z')).toEqual({
    runId: 'run-3',
    source: { ...located.dataset, size: 42 },
    labelColumn: 'Species',
    predictorType: 'classifier',
    featureNames: ['a', 'b'],
    classes: ['cat', 'dog'],
    classCounts: { cat: 3, dog: 2 },
    rowCount: 5,
    warnings: [],
    preparedAt: '2026-01-01T00:00:00.000Z',
  });
  expect(classCounts({ classes: null, labels: [1.5] })).toBeNull();
});
