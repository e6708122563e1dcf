import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  DescribeTrainingJobCommand,
  DescribeTransformJobCommand,
  DescribeHyperParameterTuningJobCommand,
  ListTrainingJobsForHyperParameterTuningJobCommand,
  StopHyperParameterTuningJobCommand,
  StopTrainingJobCommand,
  StopTransformJobCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { sageMakerClient, sageMakerRuntimeClient } from './clients';
import { retrying } from '../domain/concurrency';
import type { EndpointState } from '../domain/promotion';
import type { CapacityScope } from '../domain/capacity';
import { isTuningJobName } from '../domain/naming';

/** SageMaker reports a missing endpoint, config, model or job as ValidationException, not ResourceNotFound. */
export function isMissingResource(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  const message = String((error as { message?: string })?.message ?? '');
  return (
    name === 'ResourceNotFound' ||
    (name === 'ValidationException' && /could not find|not found|does not exist/i.test(message))
  );
}

export type { EndpointState };

/** The endpoint's status and current config, or undefined when it does not exist. */
export async function describeEndpoint(endpointName: string): Promise<EndpointState | undefined> {
  try {
    const endpoint = await sageMakerClient().send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    return {
      status: endpoint.EndpointStatus ?? 'Unknown',
      configName: endpoint.EndpointConfigName,
      ...(endpoint.PendingDeploymentSummary?.EndpointConfigName
        ? { pendingConfigName: endpoint.PendingDeploymentSummary.EndpointConfigName }
        : {}),
      failureReason: endpoint.FailureReason,
    };
  } catch (error) {
    if (isMissingResource(error)) return undefined;
    throw error;
  }
}

export async function describeEndpointStatus(endpointName: string): Promise<string | undefined> {
  return (await describeEndpoint(endpointName))?.status;
}

/** The models behind an endpoint config (empty when the config does not exist). */
export async function modelsOfEndpointConfig(configName: string): Promise<string[]> {
  try {
    const config = await sageMakerClient().send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }));
    return (config.ProductionVariants ?? []).map((variant) => variant.ModelName!).filter(Boolean);
  } catch (error) {
    if (isMissingResource(error)) return [];
    throw error;
  }
}

export interface EndpointConfigSummary {
  name: string;
  createdAt: number;
}

/** Endpoint configs whose names contain `fragment`, newest first. */
export async function listEndpointConfigs(fragment: string): Promise<EndpointConfigSummary[]> {
  const found: EndpointConfigSummary[] = [];
  let token: string | undefined;
  do {
    const page = await sageMakerClient().send(
      new ListEndpointConfigsCommand({
        NameContains: fragment,
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        NextToken: token,
        MaxResults: 100,
      }),
    );
    for (const config of page.EndpointConfigs ?? []) {
      found.push({ name: config.EndpointConfigName!, createdAt: config.CreationTime?.getTime() ?? 0 });
    }
    token = page.NextToken;
  } while (token);
  return found.sort((a, b) => b.createdAt - a.createdAt);
}

export async function describeTrainingJobStatus(trainingJobName: string): Promise<string | undefined> {
  try {
    const job = await sageMakerClient().send(new DescribeTrainingJobCommand({ TrainingJobName: trainingJobName }));
    return job.TrainingJobStatus;
  } catch (error) {
    if (isMissingResource(error)) return undefined;
    throw error;
  }
}

export async function describeTransformJobStatus(transformJobName: string): Promise<string | undefined> {
  try {
    const job = await sageMakerClient().send(new DescribeTransformJobCommand({ TransformJobName: transformJobName }));
    return job.TransformJobStatus;
  } catch (error) {
    if (isMissingResource(error)) return undefined;
    throw error;
  }
}

export async function describeTuningJobStatus(tuningJobName: string): Promise<string | undefined> {
  try {
    const job = await sageMakerClient().send(
      new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: tuningJobName }),
    );
    return job.HyperParameterTuningJobStatus;
  } catch (error) {
    if (isMissingResource(error)) return undefined;
    throw error;
  }
}

/**
 * Whether a claim's resource already exists. A training-quota ticket names a training job or a tuning job (whose
 * training jobs count against the same quota).
 */
export async function resourceExists(scope: CapacityScope, name: string): Promise<boolean> {
  const statusOf = {
    training: async (job: string) =>
      (await describeTrainingJobStatus(job)) ??
      // SageMaker refuses a longer name as a ValidationException rather than answering "not found".
      (isTuningJobName(job) ? await describeTuningJobStatus(job) : undefined),
    transform: describeTransformJobStatus,
    endpoint: describeEndpointStatus,
  }[scope];
  return (await statusOf(name)) !== undefined;
}

/** Stops a running tuning job (SageMaker then stops its training jobs); one that ended meanwhile needs no stopping. */
export async function stopTuningJob(name: string): Promise<boolean> {
  try {
    return await deleteIfPresent(() =>
      sageMakerClient().send(new StopHyperParameterTuningJobCommand({ HyperParameterTuningJobName: name })),
    );
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'ValidationException' && /in status (Completed|Failed|Stopped|Stopping)/.test(e.message ?? ''))
      return false;
    throw error;
  }
}

export interface TuningTrainingJob {
  trainingJobName: string;
  status: string;
  tunedHyperParameters: Record<string, string>;
  objective?: number;
}

/** Every training job of a tuning job, in name order (ListTrainingJobsForHyperParameterTuningJob, all pages). */
export async function listTuningTrainingJobs(tuningJobName: string): Promise<TuningTrainingJob[]> {
  const jobs: TuningTrainingJob[] = [];
  let token: string | undefined;
  do {
    const page = await sageMakerClient().send(
      new ListTrainingJobsForHyperParameterTuningJobCommand({
        HyperParameterTuningJobName: tuningJobName,
        MaxResults: 100,
        SortBy: 'Name',
        SortOrder: 'Ascending',
        NextToken: token,
      }),
    );
    for (const job of page.TrainingJobSummaries ?? [])
      jobs.push({
        trainingJobName: job.TrainingJobName!,
        status: job.TrainingJobStatus ?? 'Unknown',
        tunedHyperParameters: job.TunedHyperParameters ?? {},
        ...(job.FinalHyperParameterTuningJobObjectiveMetric?.Value !== undefined
          ? { objective: job.FinalHyperParameterTuningJobObjectiveMetric.Value }
          : {}),
      });
    token = page.NextToken;
  } while (token);
  return jobs;
}

/** Runs a delete and reports whether something was deleted; already gone counts as success. */
async function deleteIfPresent(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    if (isMissingResource(error)) return false;
    throw error;
  }
}

export const deleteEndpoint = (name: string) =>
  deleteIfPresent(() => sageMakerClient().send(new DeleteEndpointCommand({ EndpointName: name })));
export const deleteEndpointConfig = (name: string) =>
  deleteIfPresent(() => sageMakerClient().send(new DeleteEndpointConfigCommand({ EndpointConfigName: name })));
export const deleteModel = (name: string) =>
  deleteIfPresent(() => sageMakerClient().send(new DeleteModelCommand({ ModelName: name })));
/** Stops a running job; a job that finished meanwhile ("…is in status Completed") needs no stopping. */
export async function stopTrainingJob(name: string): Promise<boolean> {
  try {
    return await deleteIfPresent(() => sageMakerClient().send(new StopTrainingJobCommand({ TrainingJobName: name })));
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'ValidationException' && /in status (Completed|Failed|Stopped|Stopping)/.test(e.message ?? ''))
      return false;
    throw error;
  }
}

/** Stops a running transform job; one that ended meanwhile needs no stopping. */
export async function stopTransformJob(name: string): Promise<boolean> {
  try {
    return await deleteIfPresent(() => sageMakerClient().send(new StopTransformJobCommand({ TransformJobName: name })));
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'ValidationException' && /in status (Completed|Failed|Stopped|Stopping)/.test(e.message ?? ''))
      return false;
    throw error;
  }
}

/**
 * A serverless endpoint answers ModelNotReadyException (429) while it starts a container after an idle spell (a cold
 * start): retried for about a minute, beyond the SDK's own few quick retries.
 */
export const MODEL_NOT_READY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

export async function invokeEndpoint(
  endpointName: string,
  body: string,
  contentType: string,
  accept = 'application/json',
): Promise<string> {
  const response = await retrying(
    () =>
      sageMakerRuntimeClient().send(
        new InvokeEndpointCommand({
          EndpointName: endpointName,
          Body: new TextEncoder().encode(body),
          ContentType: contentType,
          Accept: accept,
        }),
      ),
    (error) => (error as { name?: string })?.name === 'ModelNotReadyException',
    MODEL_NOT_READY_DELAYS_MS,
  );
  return new TextDecoder().decode(response.Body);
}
