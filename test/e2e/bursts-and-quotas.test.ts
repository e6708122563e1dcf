/**
 * Bursts and quotas (README "Bursts and quotas"): forty uploads within a second on an account allowed two training
 * and two endpoint instances of the default type. Every run waits its turn in the fair capacity queue and succeeds,
 * never more than the quota runs at once, and runs get their instances in the order they joined the queue. A run that
 * cannot get capacity within its maximum queue time fails with a clear cause and leaves nothing behind.
 */
import {
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  ListEndpointsCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
} from '@aws-sdk/client-sagemaker';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { LOCAL } from '../../local/cloud';
import { credentialsFor, principal } from '../../local/iam/principals';
import type { ExecutionRecord, HistoryEvent } from '../../local/stepfunctions/runner';
import { s3Client } from '../../src/aws/clients';
import type { CapacityWait } from '../../src/artifacts';
import { EVENTS_PER_POLL } from '../../src/domain/capacity';
import { capacityWaitKey } from '../../src/domain/naming';
import { startCloud, useEmulators } from '../support/emulators';
import {
  expectNoResourcesLeft,
  getBytes,
  IRIS,
  putRaw,
  runFromHistory,
  visitedStates,
  whenStateEntered,
} from '../support/localCloud';

const RUNS = 40;
const QUOTA = 2;
const TYPE = 'ml.m5.large';

let onEvent: ((record: ExecutionRecord, event: HistoryEvent) => void) | undefined;

const local = useEmulators(() =>
  startCloud({
    onEvent: (record, event) => onEvent?.(record, event),
    sageMakerQuotas: { trainingJob: { [TYPE]: QUOTA }, endpoint: { [TYPE]: QUOTA } },
    // Short local latencies so forty runs finish in seconds; the queue's Waits take 200 ms each.
    sageMakerTiming: {
      trainingStartDelayMs: 10,
      endpointCreateDelayMs: 20,
      endpointDeleteDelayMs: 10,
      stopDelayMs: 10,
    },
    stepFunctionsTiming: { waitMs: 200, retryMs: 20, syncPollMs: 20 },
    params: { capacityInitialDelaySeconds: '1', capacityMaxDelaySeconds: '2' },
    // In-process handlers: forty runs at once would otherwise start forty sandboxes of each function, and the queue,
    // not the sandboxes, is under test (every other e2e file runs the capacity function isolated, with its role).
    lambdaIsolation: false,
  }),
);

/** A SageMaker client with the operator's (IAM user's) credentials. */
function operator(): SageMakerClient {
  return new SageMakerClient({
    endpoint: local.cloud.sageMaker.endpoint,
    region: LOCAL.region,
    credentials: credentialsFor('user'),
  });
}

/** Samples the instances in use through the SageMaker API during the burst (beside the emulator's own count). */
function observeConcurrency() {
  const api = operator();
  const peak = { trainingJobs: 0, endpoints: 0 };
  let running = true;
  const sampling = (async () => {
    while (running) {
      const [jobs, endpoints] = await Promise.all([
        api.send(new ListTrainingJobsCommand({ StatusEquals: 'InProgress', MaxResults: 100 })),
        api.send(new ListEndpointsCommand({ MaxResults: 100 })),
      ]);
      peak.trainingJobs = Math.max(peak.trainingJobs, jobs.TrainingJobSummaries?.length ?? 0);
      const holding = (endpoints.Endpoints ?? []).filter((e) => e.EndpointStatus !== 'Failed');
      peak.endpoints = Math.max(peak.endpoints, holding.length);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await sampling;
      api.destroy();
      return peak;
    },
  };
}

async function queueTickets(): Promise<string[]> {
  const page = await s3Client().send(new ListObjectsV2Command({ Bucket: LOCAL.bucket, Prefix: 'runs/_capacity/' }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

async function waitRecord(record: ExecutionRecord, resource: string): Promise<CapacityWait> {
  const run = runFromHistory(record)!;
  return JSON.parse((await getBytes(capacityWaitKey(run.keys, resource))).toString('utf8')) as CapacityWait;
}

/** Creates SageMaker refused (each one routes through the error-code Choice of its Task). */
function refusedCreates(record: ExecutionRecord): number {
  return record.history.filter((e) => e.type === 'StateEntered' && /^Is.*ErrorTransient$/.test(e.state!.name)).length;
}

test(`${RUNS} uploads within a second, quotas of ${QUOTA} training and ${QUOTA} endpoint instances: every run succeeds, the quota is never exceeded`, async () => {
  const keys = Array.from({ length: RUNS }, (_, i) => `raw/burst-${String(i).padStart(2, '0')}.csv`);
  const started = keys.map((key) => local.cloud.nextTriggeredExecution(key));
  const observer = observeConcurrency();
  const t0 = Date.now();
  await Promise.all(keys.map((key) => putRaw(key, IRIS)));
  // All forty PUTs are sent at once; how long S3 takes to answer them is the machine's.
  const uploadSeconds = (Date.now() - t0) / 1000;
  const records = await Promise.all((await Promise.all(started)).map((execution) => execution.done));
  const totalSeconds = (Date.now() - t0) / 1000;
  const observed = await observer.stop();
  const peaks = local.cloud.sageMaker.peakUsage();
  const refused = records.reduce((sum, r) => sum + refusedCreates(r), 0);
  const maxEvents = Math.max(...records.map((r) => r.history.length));
  const waits = await Promise.all(records.map((r) => waitRecord(r, runFromHistory(r)!.names.trainingJob)));
  const longestWait = Math.max(...waits.map((w) => w.waitedSeconds));
  console.log(
    `Burst of ${RUNS} runs: uploaded in ${uploadSeconds.toFixed(2)} s, all finished ${totalSeconds.toFixed(1)} s after the first upload; ` +
      `peak instances in use: training ${peaks['training job'][TYPE]}, endpoints ${peaks.endpoint[TYPE]} (observed through the API: ` +
      `${observed.trainingJobs}, ${observed.endpoints}); creates refused with ResourceLimitExceeded: ${refused}; ` +
      `longest wait for training capacity ${longestWait} s; most history events in one execution: ${maxEvents}`,
  );

  expect(records.map((r) => r.status)).toEqual(Array(RUNS).fill('SUCCEEDED'));
  expect(peaks['training job'][TYPE]).toBeLessThanOrEqual(QUOTA);
  expect(peaks.endpoint[TYPE]).toBeLessThanOrEqual(QUOTA);
  expect(observed.trainingJobs).toBeLessThanOrEqual(QUOTA);
  expect(observed.endpoints).toBeLessThanOrEqual(QUOTA);
  // The quota was the bottleneck: runs did wait for it.
  expect(waits.some((w) => w.polls > 1)).toBe(true);
  for (const record of records) await expectNoResourcesLeft(local.cloud, record);
  expect(await queueTickets()).toEqual([]);

  // History: every extra poll costs at most EVENTS_PER_POLL events (what the 25,000-event bound is computed from).
  const polls = await Promise.all(
    records.map(async (r) => {
      const run = runFromHistory(r)!;
      const claims = await Promise.all([run.names.trainingJob, run.names.endpoint].map((name) => waitRecord(r, name)));
      return claims.reduce((sum, claim) => sum + claim.polls, 0);
    }),
  );
  const fewest = polls.indexOf(Math.min(...polls));
  records.forEach((r, i) =>
    expect(r.history.length - records[fewest].history.length).toBeLessThanOrEqual(
      EVENTS_PER_POLL * (polls[i] - polls[fewest]),
    ),
  );

  // Fairness: training jobs were created in the order their claims joined the queue (FIFO, ties by run id).
  const training = await Promise.all(
    records.map(async (r) => {
      const run = runFromHistory(r)!;
      const wait = await waitRecord(r, run.names.trainingJob);
      const job = await local.cloud.sageMakerClient.send(
        new DescribeTrainingJobCommand({ TrainingJobName: run.names.trainingJob }),
      );
      return { runId: run.runId, enqueuedAt: Date.parse(wait.enqueuedAt), created: job.CreationTime!.getTime() };
    }),
  );
  const byQueue = [...training].sort((a, b) => a.enqueuedAt - b.enqueuedAt || a.runId.localeCompare(b.runId));
  const byCreation = [...training].sort((a, b) => a.created - b.created);
  expect(byCreation.map((t) => t.runId)).toEqual(byQueue.map((t) => t.runId));
}, 420_000);

test('a run that cannot get endpoint capacity within its maximum queue time fails with a clear cause and leaves nothing behind', async () => {
  // Someone else holds both endpoint instances of the quota: two endpoints of a model from the burst.
  const api = operator();
  const [heldRun] = (await burstModelArtifacts()).slice(0, 1);
  const held = ['held-a', 'held-b'];
  await api.send(
    new CreateModelCommand({
      ModelName: 'held-model',
      ExecutionRoleArn: principal('sageMaker').arn,
      PrimaryContainer: { Image: `382416733822.dkr.ecr.${LOCAL.region}.amazonaws.com/knn:1`, ModelDataUrl: heldRun },
    }),
  );
  await api.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: 'held-config',
      ProductionVariants: [
        { VariantName: 'AllTraffic', ModelName: 'held-model', InstanceType: TYPE, InitialInstanceCount: 1 },
      ],
    }),
  );
  for (const name of held)
    await api.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: 'held-config' }));

  try {
    const record = await local.cloud.startExecution({
      dataset: { key: 'raw/burst-00.csv' },
      capacity: { maxQueueSeconds: 4 },
    }).done;
    const run = runFromHistory(record)!;
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('NoCapacity');
    expect(record.cause).toMatch(
      new RegExp(`no endpoint capacity for ${TYPE} within \\d+ s; quota 2 \\('${TYPE} for endpoint usage'\\)`),
    );
    expect(record.history.some((e) => e.type === 'StateEntered' && e.state?.name === 'CleanUpAfterFailure')).toBe(true);
    const wait = await waitRecord(record, run.names.endpoint);
    expect(wait).toMatchObject({ scope: 'endpoint', status: 'gave-up', limit: 2 });
    expect(wait.waitedSeconds).toBeLessThanOrEqual(run.capacity.maxQueueSeconds + 2);
    const left = local.cloud.sageMaker.listResources();
    expect({ endpoints: left.endpoints, configs: left.endpointConfigs, models: left.models }).toEqual({
      endpoints: held,
      configs: ['held-config'],
      models: ['held-model'],
    });
    expect(await queueTickets()).toEqual([]);
  } finally {
    for (const name of held) await api.send(new DeleteEndpointCommand({ EndpointName: name }));
    await api.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'held-config' }));
    await api.send(new DeleteModelCommand({ ModelName: 'held-model' }));
    api.destroy();
  }
}, 120_000);

/** Model artifacts the burst left under runs/ (artifacts stay; only SageMaker resources are deleted). */
async function burstModelArtifacts(): Promise<string[]> {
  const page = await s3Client().send(new ListObjectsV2Command({ Bucket: LOCAL.bucket, Prefix: 'runs/burst-00-' }));
  return (page.Contents ?? [])
    .map((o) => o.Key!)
    .filter((key) => key.endsWith('/output/model.tar.gz'))
    .map((key) => `s3://${LOCAL.bucket}/${key}`);
}

/** Uploads datasets and lets the runs their uploads trigger finish, so a test's own runs start on a quiet account. */
async function uploadQuietly(keys: string[]): Promise<void> {
  const triggered = keys.map((key) => local.cloud.nextTriggeredExecution(key));
  await Promise.all(keys.map((key) => putRaw(key, IRIS)));
  const done = await Promise.all((await Promise.all(triggered)).map((execution) => execution.done));
  for (const record of done) await expectNoResourcesLeft(local.cloud, record);
}

/** Serving mode leaves the stable endpoint and its configs by design: a test removes them for the next one. */
async function deleteEverything(api: SageMakerClient): Promise<void> {
  const left = local.cloud.sageMaker.listResources();
  for (const name of left.endpoints) await api.send(new DeleteEndpointCommand({ EndpointName: name }));
  for (const name of left.endpointConfigs)
    await api.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name }));
  for (const name of left.models) await api.send(new DeleteModelCommand({ ModelName: name }));
  api.destroy();
}

const TUNING = (maxParallelJobs: number) => ({
  strategy: 'Grid',
  ranges: { k: { values: [1, 2, 3, 4] } },
  maxParallelJobs,
});

test('tuning jobs queue on the training quota: three runs whose tuning jobs each need the whole quota all succeed', async () => {
  await uploadQuietly([0, 1, 2].map((i) => `raw/tune-${i}.csv`));
  const records = await Promise.all(
    [0, 1, 2].map(
      (i) => local.cloud.startExecution({ dataset: { key: `raw/tune-${i}.csv` }, tuning: TUNING(QUOTA) }).done,
    ),
  );
  expect(records.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  expect(local.cloud.sageMaker.peakUsage()['training job'][TYPE]).toBeLessThanOrEqual(QUOTA);
  const claims = await Promise.all(records.map((r) => waitRecord(r, runFromHistory(r)!.names.tuningJob)));
  for (const claim of claims) expect(claim).toMatchObject({ scope: 'training', status: 'admitted' });
  // Each tuning job takes both instances: all but one had to wait for another run's tuning or training job.
  const waited = records.filter(
    (r, i) => claims[i].polls > 1 || r.history.some((e) => e.state?.name === 'IsTuneErrorTransient'),
  );
  expect(waited.length).toBeGreaterThanOrEqual(2);
  for (const record of records) await expectNoResourcesLeft(local.cloud, record);
  expect(await queueTickets()).toEqual([]);
}, 240_000);

test('a tuning job whose parallel training jobs alone exceed the quota fails at once, saying what to lower', async () => {
  await uploadQuietly(['raw/tune-wide.csv']);
  const record = await local.cloud.startExecution({ dataset: { key: 'raw/tune-wide.csv' }, tuning: TUNING(QUOTA + 1) })
    .done;
  expect(record.status).toBe('FAILED');
  expect(record.error).toBe('QuotaTooLow');
  expect(record.cause).toMatch(
    new RegExp(
      `needs 3 × ${TYPE} \\(3 training jobs at once of 1 each\\), and the account's quota '${TYPE} for training job usage' is 2 Instances: waiting cannot help.*lower tuning\\.maxParallelJobs`,
    ),
  );
  expect(record.history.filter((e) => e.type === 'StateEntered' && e.state?.name === 'Tune')).toHaveLength(1);
  await expectNoResourcesLeft(local.cloud, record);
  expect(await queueTickets()).toEqual([]);
}, 120_000);

test('serving mode under the endpoint quota: promotions wait their turn for the blue/green instances and all succeed', async () => {
  const api = operator();
  try {
    // Two runs on a stage with no stable endpoint yet: both may decide to create it; the one that comes second
    // updates it instead (IsCreateServingEndpointErrorTransient). Then three runs promote onto it at once.
    await uploadQuietly([0, 1, 2, 3, 4].map((i) => `raw/serve-${i}.csv`));
    const firsts = await Promise.all(
      [0, 4].map((i) => local.cloud.startExecution({ dataset: { key: `raw/serve-${i}.csv` }, serve: true }).done),
    );
    expect(firsts.map((r) => [r.status, r.cause])).toEqual(Array(2).fill(['SUCCEEDED', undefined]));
    const [first] = firsts;
    const records = await Promise.all(
      [1, 2, 3].map((i) => local.cloud.startExecution({ dataset: { key: `raw/serve-${i}.csv` }, serve: true }).done),
    );
    expect(records.map((r) => [r.status, r.cause])).toEqual(Array(3).fill(['SUCCEEDED', undefined]));
    // Serving (1) + an update's new fleet (1) fit the quota of 2 only because each run gave its evaluation
    // endpoint back first; updates of the busy serving endpoint and creates over the quota waited in the queue.
    expect(local.cloud.sageMaker.peakUsage().endpoint[TYPE]).toBeLessThanOrEqual(QUOTA);
    // With the stable endpoint holding one of the two instances, the runs' endpoints and updates had to take turns.
    expect(records.reduce((sum, r) => sum + refusedCreates(r), 0)).toBeGreaterThan(0);
    for (const record of [...firsts, ...records]) {
      const visited = record.history.filter((e) => e.type === 'StateEntered').map((e) => e.state!.name);
      expect(visited).toContain('ReleaseEvaluationEndpoint');
      const run = runFromHistory(record)!;
      expect(await waitRecord(record, run.serve.endpointName)).toMatchObject({ scope: 'endpoint', status: 'admitted' });
    }
    const served = await api.send(
      new DescribeEndpointCommand({ EndpointName: runFromHistory(first)!.serve.endpointName }),
    );
    expect(served.EndpointStatus).toBe('InService');
    const promoted = records.map((r) => runFromHistory(r)!.serve.endpointConfigName);
    expect(promoted).toContain(served.EndpointConfigName);
    expect(await queueTickets()).toEqual([]);
  } finally {
    await deleteEverything(api);
  }
}, 240_000);

test('two runs that both found no stable endpoint: the one whose create comes second updates it instead', async () => {
  const api = operator();
  try {
    await uploadQuietly(['raw/serve-race.csv']);
    // Another run creates the stable endpoint after this run decided to create it and before its create call
    // (CreateEndpoint is slowed for both, so the other's call, made first, is answered first).
    onEvent = whenStateEntered('CreateServingConfig', async (record) => {
      const run = runFromHistory(record)!;
      local.cloud.sageMaker.faults.delay('CreateEndpoint', 300);
      await api.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'other-run-serve',
          ProductionVariants: [
            { VariantName: 'AllTraffic', ModelName: run.names.model, InstanceType: TYPE, InitialInstanceCount: 1 },
          ],
        }),
      );
      await api.send(
        new CreateEndpointCommand({ EndpointName: run.serve.endpointName, EndpointConfigName: 'other-run-serve' }),
      );
    });
    const record = await local.cloud.startExecution({ dataset: { key: 'raw/serve-race.csv' }, serve: true }).done;
    expect({ status: record.status, cause: record.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
    const visited = visitedStates(record);
    expect(visited).toEqual(
      expect.arrayContaining([
        'CreateServingEndpoint',
        'IsCreateServingEndpointErrorTransient',
        'UpdateServingEndpoint',
      ]),
    );
    expect(visited).not.toContain('CreateServingEndpointRefused');
    const run = runFromHistory(record)!;
    const served = await api.send(new DescribeEndpointCommand({ EndpointName: run.serve.endpointName }));
    expect(served).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: run.serve.endpointConfigName });
  } finally {
    onEvent = undefined;
    local.cloud.sageMaker.faults.clear();
    await deleteEverything(api);
  }
}, 120_000);
