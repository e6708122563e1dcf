import { mockClient } from 'aws-sdk-client-mock';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeEndpointCommand,
  DescribeHyperParameterTuningJobCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { handler, type CapacityEvent, type CapacityResult } from '../../functions/capacity';
import { resetClients } from '../../src/aws/clients';
import { ticketKey, type CapacitySettings } from '../../src/domain/capacity';
import { setStageEnv } from '../support/lambda';

const s3 = mockClient(S3Client);
const sagemaker = mockClient(SageMakerClient);
const BUCKET = 'knn-pipeline-dev-data';
const missing = () => Object.assign(new Error('Requested resource not found.'), { name: 'ValidationException' });
const SETTINGS: CapacitySettings = {
  maxQueueSeconds: 600,
  initialDelaySeconds: 15,
  maxDelaySeconds: 300,
  maxPolls: 100,
  queuePrefix: 'runs/_capacity/',
};
const claimOf = (runId: string) => ({
  scope: 'training' as const,
  resource: `knnp-dev--${runId}`,
  instanceType: 'ml.m5.large',
  instanceCount: 1,
});
const eventOf = (runId: string, progress: CapacityEvent['progress'] = {}): CapacityEvent => ({
  run: { runId, bucket: BUCKET, keys: { root: `runs/${runId}/` } as CapacityEvent['run']['keys'], capacity: SETTINGS },
  claim: claimOf(runId),
  progress,
});
const keyOf = (runId: string, enqueuedAt: number) =>
  ticketKey(SETTINGS, claimOf(runId), {
    enqueuedAt,
    deadline: enqueuedAt + 600_000,
    runId,
    resource: claimOf(runId).resource,
  });
const invoke = (event: CapacityEvent) => handler(event) as Promise<CapacityResult>;
const deleted = () => s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input.Key);
const LIMIT_CAUSE = (limit: number, current: number, delta: number) =>
  `The account-level service limit 'ml.m5.large for training job usage' is ${limit} Instances, with current utilization of ${current} Instances and a request delta of ${delta} Instances. Please contact AWS support to request an increase for this limit. (Service: AmazonSageMaker; Status Code: 400; Error Code: ResourceLimitExceeded; Request ID: local; Proxy: null)`;

beforeEach(() => {
  s3.reset();
  sagemaker.reset();
  resetClients();
  setStageEnv();
  s3.on(PutObjectCommand).resolves({});
  s3.on(DeleteObjectCommand).resolves({});
});

test('the first claim joins the queue and is admitted: its ticket sorts by the time it joined', async () => {
  s3.on(ListObjectsV2Command).callsFake(async () => ({
    Contents: s3
      .commandCalls(PutObjectCommand)
      .map((c) => ({ Key: c.args[0].input.Key }))
      .filter((o) => o.Key!.startsWith('runs/_capacity/')),
  }));
  const result = await invoke(eventOf('run-a'));
  expect(result).toMatchObject({ decision: 'create', polls: 1, ahead: 0, quota: 'ml.m5.large for training job usage' });
  const ticket = s3.commandCalls(PutObjectCommand)[0].args[0].input.Key!;
  expect(ticket).toBe(keyOf('run-a', result.enqueuedAt));
  expect(result.deadline - result.enqueuedAt).toBe(600_000);
  // The claim's record under the run says where it stands.
  const record = s3
    .commandCalls(PutObjectCommand)
    .find((c) => c.args[0].input.Key === 'runs/run-a/capacity/knnp-dev--run-a.json');
  expect(JSON.parse(String(record!.args[0].input.Body))).toMatchObject({
    status: 'admitted',
    scope: 'training',
    ahead: 0,
  });
});

test('a claim behind a live one waits; tickets ahead whose job exists (admitted) or whose deadline is long past are dropped', async () => {
  const now = Date.now();
  const admitted = keyOf('run-old', now - 60_000);
  // A tuning job's ticket is on the training quota too; its tuning job exists, so it was admitted.
  const tuning = keyOf('run-tune-1a2b3c4d', now - 55_000);
  const crashed = ticketKey(SETTINGS, claimOf('run-crashed'), {
    enqueuedAt: now - 50_000,
    deadline: now - 3_600_000,
    runId: 'run-crashed',
    resource: claimOf('run-crashed').resource,
  });
  const waiting = keyOf('run-b', now - 10_000);
  const mine = keyOf('run-c', now - 5_000);
  s3.on(ListObjectsV2Command).resolves({
    Contents: [admitted, tuning, crashed, waiting, mine].sort().map((Key) => ({ Key })),
  });
  sagemaker.on(DescribeTrainingJobCommand).rejects(missing());
  sagemaker.on(DescribeHyperParameterTuningJobCommand).rejects(missing());
  sagemaker
    .on(DescribeTrainingJobCommand, { TrainingJobName: 'knnp-dev--run-old' })
    .resolves({ TrainingJobStatus: 'InProgress' });
  sagemaker
    .on(DescribeHyperParameterTuningJobCommand, { HyperParameterTuningJobName: 'knnp-dev--run-tune-1a2b3c4d' })
    .resolves({ HyperParameterTuningJobStatus: 'InProgress' });

  const result = await invoke(eventOf('run-c', { enqueuedAt: now - 5_000, deadline: now + 595_000, polls: 3 }));

  expect(result).toMatchObject({ decision: 'wait', ahead: 1, polls: 4 });
  expect(deleted().sort()).toEqual([admitted, tuning, crashed].sort());
  // An existing claim does not join again.
  expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
    'runs/run-c/capacity/knnp-dev--run-c.json',
  ]);
  // The backoff never polls faster than the claim's share of its polls allows.
  expect((result as { waitSeconds: number }).waitSeconds).toBeGreaterThanOrEqual(
    SETTINGS.maxQueueSeconds / SETTINGS.maxPolls,
  );
});

test('after ResourceLimitExceeded the head keeps its place and waits; a request larger than the quota fails at once', async () => {
  const now = Date.now();
  const progress = { enqueuedAt: now - 1_000, deadline: now + 599_000, polls: 1, throttles: 0 };
  const waited = await invoke(
    eventOf('run-a', {
      ...progress,
      lastError: { Error: 'SageMaker.ResourceLimitExceededException', Cause: LIMIT_CAUSE(2, 2, 1) },
    }),
  );
  expect(waited).toMatchObject({ decision: 'wait', limit: 2, polls: 2 });
  expect(deleted()).toEqual([]);

  const tooBig = await invoke(
    eventOf('run-a', {
      ...progress,
      lastError: { Error: 'SageMaker.ResourceLimitExceededException', Cause: LIMIT_CAUSE(2, 0, 3) },
    }),
  );
  expect(tooBig).toMatchObject({ decision: 'fail', error: 'QuotaTooLow' });
  expect((tooBig as { cause: string }).cause).toMatch(
    /needs 3 × ml\.m5\.large, and the account's quota 'ml\.m5\.large for training job usage' is 2 Instances: waiting cannot help/,
  );
  expect(deleted()).toEqual([keyOf('run-a', now - 1_000)]);
});

test('throttling retries briefly, five times, then fails with the original error', async () => {
  const now = Date.now();
  const throttled = {
    Error: 'SageMaker.AmazonSageMakerException',
    Cause:
      'Rate exceeded (Service: AmazonSageMaker; Status Code: 400; Error Code: ThrottlingException; Request ID: x; Proxy: null)',
  };
  const base = { enqueuedAt: now, deadline: now + 600_000, polls: 1 };
  const first = await invoke(eventOf('run-a', { ...base, throttles: 0, lastError: throttled }));
  expect(first).toMatchObject({ decision: 'wait', throttles: 1 });
  expect((first as { waitSeconds: number }).waitSeconds).toBeLessThanOrEqual(2);
  const last = await invoke(eventOf('run-a', { ...base, throttles: 5, lastError: throttled }));
  expect(last).toMatchObject({ decision: 'fail', error: 'SageMaker.AmazonSageMakerException' });
});

test('at the deadline the claim gives up with the quota named, and leaves the queue', async () => {
  const now = Date.now();
  const result = await invoke(
    eventOf('run-a', { enqueuedAt: now - 5_400_000, deadline: now - 1, polls: 40, throttles: 0, limit: 2 }),
  );
  expect(result).toMatchObject({ decision: 'fail', error: 'NoCapacity' });
  expect((result as { cause: string }).cause).toMatch(
    /^no training capacity for ml\.m5\.large within 90 min; quota 2 \('ml\.m5\.large for training job usage'\)/,
  );
  expect(deleted()).toEqual([
    ticketKey(SETTINGS, claimOf('run-a'), {
      enqueuedAt: now - 5_400_000,
      deadline: now - 1,
      runId: 'run-a',
      resource: claimOf('run-a').resource,
    }),
  ]);
});

test("a claim's first poll removes the tickets of resources its run gave back (the evaluation endpoint) and no others", async () => {
  const now = Date.now();
  const ticketOf = (runId: string, resource: string, enqueuedAt: number) =>
    ticketKey(
      SETTINGS,
      { ...claimOf(runId), resource },
      { enqueuedAt, deadline: enqueuedAt + 600_000, runId, resource },
    );
  const ownEndpoint = ticketOf('run-a', 'knnp-dev--run-a-endpoint', now - 30_000);
  const othersEndpoint = ticketOf('run-b', 'knnp-dev--run-b-endpoint', now - 20_000);
  s3.on(ListObjectsV2Command).resolves({ Contents: [ownEndpoint, othersEndpoint].map((Key) => ({ Key })) });
  sagemaker.on(DescribeTrainingJobCommand).rejects(missing());
  sagemaker.on(DescribeHyperParameterTuningJobCommand).rejects(missing());

  await invoke({ ...eventOf('run-a'), released: 'knnp-dev--run-b-endpoint' });
  await invoke({ ...eventOf('run-a'), released: 'knnp-dev--run-a-endpoint' });

  // Only this run's ticket goes: another run's ticket for a resource of the same name is not this run's to release.
  expect(deleted()).toEqual([ownEndpoint]);
});

test("a claim's first poll also removes its run's earlier ticket for the same resource (a create that became an update)", async () => {
  const now = Date.now();
  const earlier = keyOf('run-a', now - 30_000);
  s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: earlier }] });
  sagemaker.on(DescribeTrainingJobCommand).rejects(missing());

  await invoke(eventOf('run-a'));

  expect(deleted()).toEqual([earlier]);
});

test('a serving-endpoint ticket ahead counts as admitted only while the endpoint serves or deploys its run’s config', async () => {
  const now = Date.now();
  const serving = (runId: string) => ({
    scope: 'endpoint' as const,
    resource: 'knnp-dev--serving',
    instanceType: 'ml.m5.large',
    instanceCount: 1,
    runId,
  });
  const ticketOf = (runId: string, enqueuedAt: number) =>
    ticketKey(SETTINGS, serving(runId), {
      enqueuedAt,
      deadline: enqueuedAt + 600_000,
      runId,
      resource: 'knnp-dev--serving',
    });
  const waitingUpdate = ticketOf('run-x', now - 20_000);
  const mine = ticketOf('run-y', now - 10_000);
  s3.on(ListObjectsV2Command).resolves({ Contents: [waitingUpdate, mine].map((Key) => ({ Key })) });
  const claimEvent = {
    ...eventOf('run-y', { enqueuedAt: now - 10_000, deadline: now + 590_000, polls: 1 }),
    claim: serving('run-y'),
  };

  // The endpoint exists but still serves another config: run-x's update has not started, so run-y waits behind it.
  sagemaker
    .on(DescribeEndpointCommand)
    .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'knnp-dev--run-w-serve' });
  expect(await invoke(claimEvent)).toMatchObject({ decision: 'wait', ahead: 1 });
  expect(deleted()).toEqual([]);

  // run-x's update is deploying: it has its instances, and run-y is at the head.
  sagemaker.on(DescribeEndpointCommand).resolves({
    EndpointStatus: 'Updating',
    EndpointConfigName: 'knnp-dev--run-w-serve',
    PendingDeploymentSummary: { EndpointConfigName: 'knnp-dev--run-x-serve' },
  });
  expect(await invoke(claimEvent)).toMatchObject({ decision: 'create', ahead: 0 });
  expect(deleted()).toEqual([waitingUpdate]);
});
