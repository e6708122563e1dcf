/** Every finished run announces its outcome on EventBridge (source knn-pipeline, "Pipeline Run Finished"). */
import { s3ObjectCreatedEvent } from '../../local/cloud';
import { startCloud, useEmulators } from '../support/emulators';
import { IRIS, putRaw } from '../support/localCloud';

const local = useEmulators(() => startCloud({ s3Trigger: false }));
beforeAll(() => putRaw('raw/iris.csv', IRIS));

const outcomes = () =>
  local.cloud.eventBridge.events.filter((e) => e.source === 'knn-pipeline' && e.detailType === 'Pipeline Run Finished');
const outcomeOf = (executionName: string) =>
  outcomes().find((e) => (e.detail as { executionName: string }).executionName === executionName)?.detail;

test('a successful run announces its status, run id, headline metrics and gate', async () => {
  const record = await local.cloud.startExecution({ dataset: { key: 'raw/iris.csv' } }).done;
  expect(outcomeOf(record.name)).toMatchObject({
    status: 'SUCCEEDED',
    runId: record.name,
    error: null,
    dataset: 's3://knn-pipeline-local-data/raw/iris.csv',
    metrics: { accuracy: 0.9736842105263158, macroF1: expect.closeTo(0.97170347, 6) },
    gate: { metric: 'accuracy', threshold: 0.9, passed: true },
    promotion: null,
    metricsUri: `s3://knn-pipeline-local-data/runs/${record.name}/evaluation/metrics.json`,
  });
});

test('failed runs announce the error and cause; a duplicate delivery announces nothing', async () => {
  const gateFailed = await local.cloud.startExecution({
    dataset: { key: 'raw/iris.csv' },
    qualityGate: { threshold: 0.99 },
  }).done;
  expect(outcomeOf(gateFailed.name)).toMatchObject({
    status: 'FAILED',
    error: 'QualityGateNotMet',
    gate: { passed: false },
  });
  const missing = await local.cloud.startExecution({ dataset: { key: 'raw/missing.csv' } }).done;
  expect(outcomeOf(missing.name)).toMatchObject({ status: 'FAILED', error: 'DatasetNotFoundError', metrics: null });

  const event = s3ObjectCreatedEvent({
    bucket: 'knn-pipeline-local-data',
    key: 'raw/iris.csv',
    size: IRIS.length,
    etag: '"e"',
    sequencer: '00000000000000AA',
  });
  const [first, again] = [
    await local.cloud.startExecution(event).done,
    await local.cloud.startExecution({ ...event, id: 'again' }).done,
  ];
  expect(outcomeOf(first.name)).toMatchObject({ status: 'SUCCEEDED' });
  expect(outcomeOf(again.name)).toBeUndefined();
});

test('a serving run announces the promotion decision and outcome', async () => {
  const record = await local.cloud.startExecution({ dataset: { key: 'raw/iris.csv' }, serve: true }).done;
  expect(outcomeOf(record.name)).toMatchObject({
    status: 'SUCCEEDED',
    promotion: { decision: 'create', outcome: 'promoted', message: expect.stringMatching(/now serves/) },
  });
});
