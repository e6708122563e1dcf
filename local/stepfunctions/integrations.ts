import { randomUUID } from 'node:crypto';
import * as SageMaker from '@aws-sdk/client-sagemaker';
import type { Context } from 'aws-lambda';
import { lambdaContextOf } from '../lambda/context';
import { FunctionError, LambdaServiceError } from '../lambda/errors';
import { MODELLED_SAGEMAKER_ERRORS, TaskError, optimisedSageMakerError, sdkIntegrationError } from './errors';

/** What a Task runs: the state's effective input (JSON) to its result (JSON). */
export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface IntegrationContext {
  executionArn: string;
  sageMaker: SageMaker.SageMakerClient;
  /** How often `.sync` polls DescribeTrainingJob. */
  syncPollMs: number;
  /** Called with the training job name so an aborted execution can stop it, as Step Functions does. */
  onTrainingJobStarted: (name: string) => void;
  /** The same for a transform job started with createTransformJob.sync. */
  onTransformJobStarted?: (name: string) => void;
  /** The same for a tuning job started with createHyperParameterTuningJob.sync. */
  onTuningJobStarted?: (name: string) => void;
  signal: AbortSignal;
}

/** Plain JSON, as values cross a Step Functions state boundary (Dates become epoch milliseconds, like .sync output). */
function toStateJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v) => (key === '$metadata' ? undefined : v)));
}

function withEpochMillis(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map(withEpochMillis);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== '$metadata')
        .map(([k, v]) => [k, withEpochMillis(v)]),
    );
  }
  return value;
}

/** A Lambda invocation context for in-process handlers: a fresh request id each call, the function's limits. */
export function lambdaContext(functionName: string, limits = { timeoutMs: 300_000, memorySize: 1024 }): Context {
  return lambdaContextOf({
    functionName,
    functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memorySize: limits.memorySize,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    requestId: randomUUID(),
    deadline: Date.now() + limits.timeoutMs,
  });
}

/**
 * How a Lambda Task reaches its function: the event in, the function's JSON result out. It rejects with a
 * FunctionError (the function failed: timeout, out of memory, or an error the handler threw, reported by the sandbox),
 * a LambdaServiceError (Lambda refused the request), or, for in-process handlers, the error the handler threw.
 */
export type LambdaInvoke = (event: unknown) => Promise<unknown>;

/**
 * What Step Functions reports for a failed Lambda Task: the errorType as the error, the whole error payload
 * ({errorType, errorMessage, trace}) as JSON for the cause; `Lambda.<Exception>` when the Lambda service refused.
 */
function lambdaTaskError(error: unknown): TaskError {
  if (error instanceof LambdaServiceError) {
    const details = `Service: AWSLambda; Status Code: ${error.statusCode}; Error Code: ${error.name}; Request ID: ${error.requestId}; Proxy: null`;
    return new TaskError(`Lambda.${error.name}`, `${error.message} (${details})`);
  }
  if (error instanceof FunctionError) return new TaskError(error.payload.errorType, JSON.stringify(error.payload));
  const e = error as Error;
  const errorType = e?.name || 'Error';
  return new TaskError(
    errorType,
    JSON.stringify({ errorType, errorMessage: e?.message ?? String(error), trace: (e?.stack ?? '').split('\n') }),
  );
}

/** A Lambda Task: JSON in, JSON out, errors as {errorType, errorMessage, trace}, as Step Functions reports them. */
export function lambdaTask(invoke: LambdaInvoke): TaskHandler {
  return async (input) => {
    try {
      return toStateJson(await invoke(JSON.parse(JSON.stringify(input)))) ?? null;
    } catch (error) {
      throw lambdaTaskError(error);
    }
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    const onAbort = () => (clearTimeout(timer), reject(new Error('aborted')));
    // The listener goes away with the timer, so long polls do not pile listeners onto one signal.
    const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** One optimised integration; a Task's Parameters go to SageMaker as the request, which SageMaker validates. */
type OptimisedCall = (sageMaker: SageMaker.SageMakerClient, request: unknown) => Promise<object>;

const OPTIMISED_SAGEMAKER: Record<string, OptimisedCall> = {
  createTrainingJob: (sm, p) =>
    sm.send(new SageMaker.CreateTrainingJobCommand(p as SageMaker.CreateTrainingJobRequest)),
  createTransformJob: (sm, p) =>
    sm.send(new SageMaker.CreateTransformJobCommand(p as SageMaker.CreateTransformJobRequest)),
  createHyperParameterTuningJob: (sm, p) =>
    sm.send(new SageMaker.CreateHyperParameterTuningJobCommand(p as SageMaker.CreateHyperParameterTuningJobRequest)),
  createModel: (sm, p) => sm.send(new SageMaker.CreateModelCommand(p as SageMaker.CreateModelInput)),
  createEndpointConfig: (sm, p) =>
    sm.send(new SageMaker.CreateEndpointConfigCommand(p as SageMaker.CreateEndpointConfigInput)),
  createEndpoint: (sm, p) => sm.send(new SageMaker.CreateEndpointCommand(p as SageMaker.CreateEndpointInput)),
  updateEndpoint: (sm, p) => sm.send(new SageMaker.UpdateEndpointCommand(p as SageMaker.UpdateEndpointInput)),
};

/** Any SageMaker command class, for the SDK integration that picks one by the action's name. */
type CommandClass = new (input: unknown) => Parameters<SageMaker.SageMakerClient['send']>[0];

/** The jobs `.sync` runs to completion: how to name, describe and read the status of each. */
const SYNC_JOBS: Record<
  string,
  {
    nameField: 'TrainingJobName' | 'TransformJobName' | 'HyperParameterTuningJobName';
    describe: (sm: SageMaker.SageMakerClient, name: string) => Promise<Record<string, unknown>>;
    statusField: string;
    started: (ctx: IntegrationContext, name: string) => void;
  }
> = {
  createTrainingJob: {
    nameField: 'TrainingJobName',
    describe: async (sm, name) => ({
      ...(await sm.send(new SageMaker.DescribeTrainingJobCommand({ TrainingJobName: name }))),
    }),
    statusField: 'TrainingJobStatus',
    started: (ctx, name) => ctx.onTrainingJobStarted(name),
  },
  createTransformJob: {
    nameField: 'TransformJobName',
    describe: async (sm, name) => ({
      ...(await sm.send(new SageMaker.DescribeTransformJobCommand({ TransformJobName: name }))),
    }),
    statusField: 'TransformJobStatus',
    started: (ctx, name) => ctx.onTransformJobStarted?.(name),
  },
  createHyperParameterTuningJob: {
    nameField: 'HyperParameterTuningJobName',
    describe: async (sm, name) => ({
      ...(await sm.send(new SageMaker.DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: name }))),
    }),
    statusField: 'HyperParameterTuningJobStatus',
    started: (ctx, name) => ctx.onTuningJobStarted?.(name),
  },
};

/** arn:aws:states:::sagemaker:<action>[.sync]: request/response, or run-a-job (training, transform, tuning jobs). */
function optimisedSageMakerTask(action: string, sync: boolean, ctx: IntegrationContext): TaskHandler {
  const call = OPTIMISED_SAGEMAKER[action];
  if (!call) throw new Error(`Local Step Functions does not implement arn:aws:states:::sagemaker:${action}`);
  const job = SYNC_JOBS[action];
  if (sync && !job)
    throw new Error(`Local Step Functions implements .sync only for ${Object.keys(SYNC_JOBS).join(', ')}`);
  return async (parameters) => {
    const request: { Tags?: SageMaker.Tag[] } & Record<string, unknown> = { ...(parameters as object) };
    if (job) {
      // Step Functions tags the jobs it starts so they can be traced back to the execution.
      request.Tags = [
        ...(request.Tags ?? []),
        { Key: 'MANAGED_BY_AWS', Value: 'STARTED_BY_STEP_FUNCTIONS' },
        { Key: 'AWS_STEP_FUNCTIONS_EXECUTION_ARN', Value: ctx.executionArn },
      ];
    }
    let response;
    try {
      response = await call(ctx.sageMaker, request);
    } catch (error) {
      throw optimisedSageMakerError(error);
    }
    if (!sync || !job) return withEpochMillis(response);
    const jobName = request[job.nameField] as string; // SageMaker has just accepted the request, so it has one
    job.started(ctx, jobName);
    for (;;) {
      await sleep(ctx.syncPollMs, ctx.signal);
      let described;
      try {
        described = await job.describe(ctx.sageMaker, jobName);
      } catch (error) {
        throw optimisedSageMakerError(error);
      }
      const output = withEpochMillis({
        ...described,
        Tags: Object.fromEntries(request.Tags!.map((t) => [t.Key, t.Value])),
      });
      const status = described[job.statusField];
      if (status === 'Completed') return output;
      if (status === 'Failed' || status === 'Stopped') {
        throw new TaskError('States.TaskFailed', JSON.stringify(output));
      }
    }
  };
}

function pascal(action: string): string {
  return action.charAt(0).toUpperCase() + action.slice(1);
}

/** arn:aws:states:::aws-sdk:sagemaker:<apiAction> — any SageMaker API call, request/response. */
function sdkSageMakerTask(action: string, ctx: IntegrationContext): TaskHandler {
  // The SDK exports one class per API action; the action comes from the definition's Resource.
  const Command = (SageMaker as unknown as Record<string, CommandClass | undefined>)[`${pascal(action)}Command`];
  if (!Command) throw new Error(`@aws-sdk/client-sagemaker has no ${pascal(action)}Command`);
  return async (parameters) => {
    try {
      return toStateJson(await ctx.sageMaker.send(new Command(parameters)));
    } catch (error) {
      throw sdkIntegrationError('SageMaker', error, MODELLED_SAGEMAKER_ERRORS);
    }
  };
}

/** The interpreter abandons a Task's promise when the execution ends; a late rejection must not crash the process. */
function abandonable(task: TaskHandler): TaskHandler {
  return (input) => {
    const running = task(input);
    running.catch(() => undefined);
    return running;
  };
}

/** Chooses how a Task's Resource runs locally: in-process Lambda handlers, or SageMaker through the SDK. */
export function taskForResource(
  resource: string,
  lambdas: Record<string, TaskHandler>,
  ctx: IntegrationContext,
): TaskHandler {
  return abandonable(resolveTask(resource, lambdas, ctx));
}

function resolveTask(resource: string, lambdas: Record<string, TaskHandler>, ctx: IntegrationContext): TaskHandler {
  const lambda = /^arn:aws:lambda:[^:]+:\d+:function:([^:]+)$/.exec(resource);
  if (lambda) {
    const handler = lambdas[lambda[1]];
    if (!handler) throw new Error(`No local handler for Lambda function ${lambda[1]}`);
    return handler;
  }
  const optimised = /^arn:aws:states:::sagemaker:([A-Za-z]+)(\.sync)?$/.exec(resource);
  if (optimised) return optimisedSageMakerTask(optimised[1], Boolean(optimised[2]), ctx);
  const sdk = /^arn:aws:states:::aws-sdk:sagemaker:([A-Za-z]+)$/.exec(resource);
  if (sdk) return sdkSageMakerTask(sdk[1], ctx);
  throw new Error(`Local Step Functions cannot run Task resource ${resource}`);
}

export { TaskError };
