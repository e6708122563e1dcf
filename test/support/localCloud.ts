// Helpers for tests against the local cloud: objects in its bucket, what a run left behind, which states it visited.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/aws/clients';
import { LOCAL, type LocalCloud } from '../../local/cloud';
import type { ExecutionRecord } from '../../local/stepfunctions/runner';
import type { RunConfig } from '../../src/domain/runConfig';

export const ROOT = path.resolve(__dirname, '../..');
export const IRIS = readFileSync(path.join(ROOT, 'data/iris.csv'));

export async function putRaw(key: string, body: Uint8Array | string): Promise<void> {
  await s3Client().send(new PutObjectCommand({ Bucket: LOCAL.bucket, Key: key, Body: body }));
}

export async function getBytes(key: string): Promise<Buffer> {
  const response = await s3Client().send(new GetObjectCommand({ Bucket: LOCAL.bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/** What a state passed on when it first ended, from the interpreter's own record of an execution. */
export function stateOutput<T>(record: ExecutionRecord, stateName: string): T | undefined {
  for (const event of record.history) {
    if (event.type === 'StateExited' && event.state?.name === stateName) return event.state.output as T;
  }
  return undefined;
}

/** The run configuration Prepare produced (present even when a later step failed). */
export function runFromHistory(record: ExecutionRecord): RunConfig | undefined {
  return stateOutput<{ run?: RunConfig }>(record, 'Prepare')?.run;
}

/** Asserts the run left nothing billing in SageMaker: no endpoint, config or model, and no running training job. */
export async function expectNoResourcesLeft(cloud: LocalCloud, record: ExecutionRecord): Promise<void> {
  const resources = cloud.sageMaker.listResources();
  expect({
    endpoints: resources.endpoints,
    endpointConfigs: resources.endpointConfigs,
    models: resources.models,
  }).toEqual({
    endpoints: [],
    endpointConfigs: [],
    models: [],
  });
  const run = runFromHistory(record);
  if (!run) return;
  const job = await cloud.sageMakerClient
    .send(new DescribeTrainingJobCommand({ TrainingJobName: run.names.trainingJob }))
    .catch(() => undefined);
  if (job) expect(['Completed', 'Failed', 'Stopped']).toContain(job.TrainingJobStatus);
}

export function visitedStates(record: ExecutionRecord): string[] {
  return record.history.filter((e) => e.type === 'StateEntered').map((e) => e.state!.name);
}

export function retriedStates(record: ExecutionRecord): string[] {
  return record.history.filter((e) => e.type === 'StateRetried').map((e) => e.state!.name);
}

/** Waits until the execution enters the given state, then calls back (for faults injected mid-run). */
export function whenStateEntered(stateName: string, action: (record: ExecutionRecord) => void | Promise<void>) {
  let fired = false;
  return (record: ExecutionRecord, event: { type: string; state?: { name: string } }) => {
    if (fired || event.type !== 'StateEntered' || event.state?.name !== stateName) return;
    fired = true;
    void action(record);
  };
}
