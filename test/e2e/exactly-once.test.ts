/** S3 delivers events at least once: one upload trains at most once; different uploads never collide. */
import { s3ObjectCreatedEvent } from '../../local/cloud';
import { startCloud, useEmulators } from '../support/emulators';
import { expectNoResourcesLeft, IRIS, putRaw, runFromHistory, visitedStates } from '../support/localCloud';

const local = useEmulators(() => startCloud({ s3Trigger: false }));
beforeAll(() => putRaw('raw/iris.csv', IRIS));

test('a duplicate S3 event for the same object version starts no second training and says so', async () => {
  const event = s3ObjectCreatedEvent({
    bucket: 'knn-pipeline-local-data',
    key: 'raw/iris.csv',
    size: IRIS.length,
    etag: '"e"',
    sequencer: '0000000000000001',
  });
  const duplicateDelivery = { ...event, id: 'another-delivery-id' };
  const first = local.cloud.startExecution(event);
  const second = local.cloud.startExecution(duplicateDelivery);
  const [a, b] = await Promise.all([first.done, second.done]);

  const outcomes = [a, b].map((record) => visitedStates(record).includes('DuplicateEvent'));
  expect([...outcomes].sort()).toEqual([false, true]);
  const original = outcomes[0] ? b : a;
  const duplicate = outcomes[0] ? a : b;
  expect(original.status).toBe('SUCCEEDED');
  expect(duplicate.status).toBe('SUCCEEDED');
  expect(visitedStates(duplicate)).toEqual(['Prepare', 'IsDuplicateEvent', 'DuplicateEvent']);
  expect((duplicate.output as { message: string }).message).toMatch(
    /^Duplicate event: s3:\/\/knn-pipeline-local-data\/raw\/iris.csv is already handled by execution /,
  );
  expect(
    local.cloud.sageMaker
      .listResources()
      .trainingJobs.filter((job) => job === runFromHistory(original)!.names.trainingJob),
  ).toHaveLength(1);

  // A late redelivery after the run finished is still recognised.
  const late = await local.cloud.startExecution({ ...event, id: 'late-delivery' }).done;
  expect(visitedStates(late)).toContain('DuplicateEvent');
});

test('concurrent runs on different files use distinct names and prefixes and both succeed', async () => {
  await putRaw('raw/iris copy.csv', IRIS);
  const events = ['raw/iris.csv', 'raw/iris copy.csv'].map((key, i) =>
    s3ObjectCreatedEvent({
      bucket: 'knn-pipeline-local-data',
      key,
      size: IRIS.length,
      etag: '"e"',
      sequencer: `00000000000001${i}0`,
    }),
  );
  const records = await Promise.all(events.map((event) => local.cloud.startExecution(event).done));
  expect(records.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  const [x, y] = records.map((r) => runFromHistory(r)!);
  expect(x.runId).not.toBe(y.runId);
  expect(x.keys.root).not.toBe(y.keys.root);
  for (const kind of ['trainingJob', 'model', 'endpointConfig', 'endpoint'] as const)
    expect(x.names[kind]).not.toBe(y.names[kind]);
  for (const record of records) await expectNoResourcesLeft(local.cloud, record);
});
