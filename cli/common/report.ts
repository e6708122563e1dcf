// Everything known about one run: the execution, its states, its SageMaker resources, its evaluation and artifacts.
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  DescribeTransformJobCommand,
} from '@aws-sdk/client-sagemaker';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { decodeArtifact } from '../../src/artifacts/codec';
import type { CrossValidationSummary, EvaluationMetrics, GateResult } from '../../src/artifacts/schemas';
import type { ServingState } from '../../src/artifacts/summary';
import type { RunLayout } from '../../src/domain/naming';
import type { RunConfig } from '../../src/domain/runConfig';
import {
  datasetOf,
  durationMs,
  runConfigFromHistory,
  stateVisits,
  triggerOf,
  type Execution,
  type StateVisit,
} from './executions';
import type { Target } from './target';

export interface ResourceStatus {
  name: string;
  /** The SageMaker status, or `not found` (not created yet, or deleted: endpoints are deleted by CleanUp). */
  status: string;
  detail?: string;
}

export interface StateSummary {
  name: string;
  type: string;
  /** How the last visit ended; a polling loop visits the same states many times. */
  status: StateVisit['status'];
  visits: number;
  durationMs: number | null;
  error?: string;
  cause?: string;
}

export interface Evaluation {
  metrics: EvaluationMetrics | null;
  classes: string[] | null;
  gate: GateResult | null;
  testRows?: number;
  /** Cross-validation per fold and mean ± std, when the run asked for it. */
  crossValidation?: CrossValidationSummary | null;
  serving?: ServingState | null;
}

export interface RunReport extends Evaluation {
  executionName: string;
  executionArn: string;
  status: string;
  trigger: string;
  dataset: string;
  startDate: string | null;
  stopDate: string | null;
  durationMs: number;
  error: string | null;
  cause: string | null;
  runId: string | null;
  sageMaker: {
    trainingJob: ResourceStatus;
    model: string;
    endpointConfig: string;
    endpoint: ResourceStatus;
    /** Evaluation mode batchTransform: the run's transform job. */
    transformJob?: ResourceStatus;
  } | null;
  states: StateSummary[];
  /** The run's prefix in the bucket; every artifact but the dataset is under it. */
  artifactRoot: { s3: string; local?: string } | null;
  artifacts: Record<string, { s3: string; local?: string }>;
}

const NOT_FOUND = 'not found';

/**
 * Whether an SDK error says the resource is not there. SageMaker reports a missing endpoint as ValidationException
 * "Could not find …", and a missing training job as ValidationException "Requested resource not found." (AWS and the
 * local SageMaker alike), which is also the answer while Train has been entered but its CreateTrainingJob has not
 * returned yet (`watch` asks then). Only that name with that exact message counts; other validation errors are real.
 */
export function notFound(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return (
    e.name === 'ResourceNotFound' ||
    e.name === 'NoSuchKey' ||
    e.name === 'NotFound' ||
    (e.name === 'ValidationException' && /^Requested resource not found\.?$/.test(e.message?.trim() ?? '')) ||
    /could not find|does not exist/i.test(e.message ?? '')
  );
}

export async function trainingJobStatus(target: Target, name: string): Promise<ResourceStatus> {
  try {
    const job = await target.sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    return { name, status: job.TrainingJobStatus ?? 'Unknown', detail: job.FailureReason ?? job.SecondaryStatus };
  } catch (error) {
    if (notFound(error)) return { name, status: NOT_FOUND };
    throw error;
  }
}

export async function transformJobStatus(target: Target, name: string): Promise<ResourceStatus> {
  try {
    const job = await target.sageMaker.send(new DescribeTransformJobCommand({ TransformJobName: name }));
    return {
      name,
      status: job.TransformJobStatus ?? 'Unknown',
      ...(job.FailureReason ? { detail: job.FailureReason } : {}),
    };
  } catch (error) {
    if (notFound(error)) return { name, status: NOT_FOUND };
    throw error;
  }
}

export async function endpointStatus(target: Target, name: string): Promise<ResourceStatus> {
  try {
    const endpoint = await target.sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }));
    return {
      name,
      status: endpoint.EndpointStatus ?? 'Unknown',
      ...(endpoint.FailureReason ? { detail: endpoint.FailureReason } : {}),
    };
  } catch (error) {
    if (notFound(error)) return { name, status: NOT_FOUND };
    throw error;
  }
}

export async function readObject(target: Target, key: string): Promise<string | undefined> {
  try {
    const object = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    return await object.Body!.transformToString();
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  }
}

async function exists(target: Target, key: string): Promise<boolean> {
  try {
    await target.s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }));
    return true;
  } catch (error) {
    if (notFound(error) || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return false;
    throw error;
  }
}

/** metrics.json as Evaluate wrote it (checked by its schema); empty when the run never got that far. */
export async function readEvaluation(target: Target, run: RunConfig): Promise<Evaluation> {
  const read = async <N extends 'metrics' | 'serving'>(name: N) => {
    const text = await readObject(target, run.keys[name]);
    return text === undefined ? undefined : decodeArtifact(name, text, `s3://${target.bucket}/${run.keys[name]}`);
  };
  const file = await read('metrics');
  if (!file) return { metrics: null, classes: null, gate: null };
  const promotion = file.promotion.decision !== 'off' ? file.promotion : undefined;
  const recorded = promotion ? await read('serving') : undefined;
  return {
    metrics: file.metrics,
    classes: file.classes,
    gate: file.gate,
    testRows: file.testRows,
    crossValidation: file.crossValidation,
    serving: promotion
      ? {
          decision: promotion.decision,
          reason: promotion.reason,
          outcome: recorded?.outcome ?? null,
          message: recorded?.message ?? null,
        }
      : null,
  };
}

export async function readPredictions(target: Target, run: RunConfig): Promise<string | undefined> {
  return readObject(target, run.keys.predictions);
}

/** The run's headline number: the quality gate's metric (accuracy for a classifier, r² for a regressor by default). */
export function headline(evaluation: Evaluation): { name: string; value: number | null } | null {
  if (evaluation.gate) return { name: evaluation.gate.metric, value: evaluation.gate.value };
  const metrics = evaluation.metrics;
  if (!metrics) return null;
  return 'accuracy' in metrics ? { name: 'accuracy', value: metrics.accuracy } : { name: 'r2', value: metrics.r2 };
}

/** State visits folded per state, in first-visit order. */
export function summariseStates(visits: StateVisit[]): StateSummary[] {
  const byName = new Map<string, StateSummary>();
  for (const visit of visits) {
    const took = visit.exitedAt ? visit.exitedAt.getTime() - visit.enteredAt.getTime() : null;
    const summary = byName.get(visit.name) ?? {
      name: visit.name,
      type: visit.type,
      status: visit.status,
      visits: 0,
      durationMs: 0,
    };
    summary.visits += 1;
    summary.status = visit.status;
    summary.durationMs = took === null || summary.durationMs === null ? null : summary.durationMs + took;
    if (visit.error) Object.assign(summary, { error: visit.error, cause: visit.cause });
    byName.set(visit.name, summary);
  }
  return [...byName.values()];
}

/** A run's files by name, in the order people read them: the dataset, its S3 layout (runLayout), the model. */
const ARTIFACTS = [
  'dataset',
  'manifest',
  'preparedFeatures',
  'preparedLabels',
  'split',
  'trainChannel',
  'testChannel',
  'model',
  'metrics',
  'predictions',
  'report',
  'serving',
] as const satisfies readonly ('dataset' | 'model' | keyof RunLayout)[];

export type ArtifactName = (typeof ARTIFACTS)[number];

export function artifactKeys(run: RunConfig): Record<ArtifactName, string> {
  const key = (name: ArtifactName) => {
    if (name === 'dataset') return run.dataset.key;
    // SageMaker writes the model to <S3OutputPath>/<TrainingJobName>/output/model.tar.gz.
    if (name === 'model') return `${run.keys.trainingOutput}${run.names.trainingJob}/output/model.tar.gz`;
    return run.keys[name];
  };
  return Object.fromEntries(ARTIFACTS.map((name) => [name, key(name)])) as Record<ArtifactName, string>;
}

export async function buildRunReport(target: Target, execution: Execution, events: HistoryEvent[]): Promise<RunReport> {
  const run = runConfigFromHistory(events);
  const [evaluation, sageMaker, artifacts] = run
    ? await Promise.all([readEvaluation(target, run), sageMakerStatus(target, run), existingArtifacts(target, run)])
    : [{ metrics: null, classes: null, gate: null } satisfies Evaluation, null, {}];
  return {
    executionName: execution.name!,
    executionArn: execution.executionArn!,
    status: execution.status!,
    trigger: triggerOf(execution),
    dataset: run?.dataset.uri ?? datasetOf(execution),
    startDate: execution.startDate?.toISOString() ?? null,
    stopDate: execution.stopDate?.toISOString() ?? null,
    durationMs: durationMs(execution),
    error: execution.error ?? null,
    cause: execution.cause ?? null,
    runId: run?.runId ?? null,
    sageMaker,
    states: summariseStates(stateVisits(events)),
    ...evaluation,
    artifactRoot: run ? location(target, run.keys.root) : null,
    artifacts,
  };
}

async function sageMakerStatus(target: Target, run: RunConfig): Promise<NonNullable<RunReport['sageMaker']>> {
  const batchTransform = run.evaluation?.mode === 'batchTransform';
  const [trainingJob, endpoint, transformJob] = await Promise.all([
    trainingJobStatus(target, run.names.trainingJob),
    endpointStatus(target, run.names.endpoint),
    batchTransform ? transformJobStatus(target, run.names.transformJob) : undefined,
  ]);
  return {
    trainingJob,
    model: run.names.model,
    endpointConfig: run.names.endpointConfig,
    endpoint,
    ...(transformJob ? { transformJob } : {}),
  };
}

async function existingArtifacts(target: Target, run: RunConfig): Promise<RunReport['artifacts']> {
  const entries = await Promise.all(
    Object.entries(artifactKeys(run)).map(async ([name, key]) => [name, key, await exists(target, key)] as const),
  );
  return Object.fromEntries(entries.filter(([, , found]) => found).map(([name, key]) => [name, location(target, key)]));
}

function location(target: Target, key: string): { s3: string; local?: string } {
  return { s3: `s3://${target.bucket}/${key}`, ...(target.localPath ? { local: target.localPath(key) } : {}) };
}
