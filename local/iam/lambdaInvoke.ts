import { randomUUID } from 'node:crypto';
import { TaskError } from '../stepfunctions/errors';
import type { Authorizer } from './authorizer';
import type { PrincipalId } from './principals';

type TaskHandler = (input: unknown) => Promise<unknown>;

/** The deployed function ARN of a local function name (knn-pipeline-local-prepare). */
export function functionArn(name: string, region = 'us-east-1', account = '000000000000'): string {
  return name.startsWith('arn:') ? name : `arn:aws:lambda:${region}:${account}:function:${name}`;
}

/**
 * The state machine's Lambda Tasks, each authorised as lambda:InvokeFunction on its function for the caller (the
 * state machine role). A denial fails the Task as Step Functions reports Lambda's 403: Lambda.AWSLambdaException
 * (so the definition's Retry on it applies, as on AWS), with Lambda's message and `Error Code: AccessDeniedException`.
 */
export function withInvokePermission(
  lambdas: Record<string, TaskHandler>,
  authorizer: Authorizer | undefined,
  caller: PrincipalId = 'stateMachine',
): Record<string, TaskHandler> {
  if (!authorizer) return lambdas;
  return Object.fromEntries(
    Object.entries(lambdas).map(([name, task]) => [
      name,
      async (input: unknown) => {
        const decision = await authorizer.authorize({
          principal: caller,
          action: 'lambda:InvokeFunction',
          resource: functionArn(name),
        });
        if (!decision.allowed) {
          const details = `Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null`;
          throw new TaskError('Lambda.AWSLambdaException', `${decision.message} (${details})`);
        }
        return task(input);
      },
    ]),
  );
}
