import type { Context } from 'aws-lambda';
import type { LambdaFunctionConfig } from './lambda/config';
import type { LambdaInvoker } from './lambda/invoker';
import { lambdaContext, lambdaTask, type LambdaInvoke, type TaskHandler } from './stepfunctions/integrations';

/**
 * The functions the definition's Task states invoke, by the placeholder name the definition uses
 * (`${self:custom.asl.<Name>FunctionArn}`) and their key in serverless.yml.
 */
export const PIPELINE_FUNCTIONS = {
  Prepare: 'prepare',
  Split: 'split',
  Upload: 'upload',
  Tuning: 'tuning',
  Evaluate: 'evaluate',
  Promote: 'promote',
  Cleanup: 'cleanup',
  Report: 'report',
  Capacity: 'capacity',
} as const;

/** The function the janitor rule (EventBridge) invokes. */
export const JANITOR_FUNCTION = 'janitor';

export function functionName(service: string, stage: string, name: string): string {
  return `${service}-${stage}-${name.toLowerCase()}`;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * A function run inside the calling process (LocalCloudOptions.lambdaIsolation false): no memory limit, no timeout,
 * the process's environment; loaded on first use. For stepping through a handler in a debugger.
 */
export function inProcessInvoke(fn: LambdaFunctionConfig, deployedName: string): LambdaInvoke {
  let handler: Promise<Handler> | undefined;
  return async (event) => {
    handler ??= import(fn.entry).then((module: Record<string, unknown>) => module[fn.exportName] as Handler);
    const context = lambdaContext(deployedName, { timeoutMs: fn.timeout * 1000, memorySize: fn.memorySize });
    return (await handler)(event, context);
  };
}

/** How the local cloud invokes each function: isolated in its sandbox (the invoker), or in-process. */
export function functionInvokers(
  functions: Record<string, LambdaFunctionConfig>,
  deployedName: (key: string) => string,
  invoker: LambdaInvoker | undefined,
): Record<string, LambdaInvoke> {
  return Object.fromEntries(
    Object.values(functions).map((fn) => [
      fn.key,
      invoker ? (event: unknown) => invoker.invoke(fn.key, event) : inProcessInvoke(fn, deployedName(fn.key)),
    ]),
  );
}

/** The Lambda Task handlers of the definition, by deployed function name (the name in the Task's Resource ARN). */
export function localLambdas(
  invokers: Record<string, LambdaInvoke>,
  deployedName: (key: string) => string,
): Record<string, TaskHandler> {
  return Object.fromEntries(
    Object.values(PIPELINE_FUNCTIONS).map((key) => [deployedName(key), lambdaTask(invokers[key])]),
  );
}
