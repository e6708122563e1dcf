import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../log/logger';

/**
 * A deployed handler. The context is optional so tests and in-process callers may leave it out (Middy then uses an
 * empty one); Lambda and the local cloud always pass one.
 */
export type LambdaHandler<TEvent, TResult> = (event: TEvent, context?: Context) => Promise<TResult>;

/** One error log per failed invocation, cause chain included; the error itself goes on unchanged to Step Functions. */
const logFailure: MiddlewareObj = {
  onError: ({ error }) => {
    logger.error('Invocation failed', { error });
  },
};

/**
 * Wraps a handler body for Lambda: Lambda context in every log line, keys appended during an invocation cleared
 * when it ends (warm containers never carry one run's keys into the next), and one error log per failure.
 */
export function lambdaHandler<TEvent, TResult>(
  body: (event: TEvent, context: Context) => Promise<TResult>,
): LambdaHandler<TEvent, TResult> {
  // timeoutEarlyInMillis 0: a Lambda timeout stays Lambda's own Sandbox.Timedout, as the state machine expects.
  const wrapped = middy<TEvent, TResult>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logFailure)
    .handler(body);
  return (event, context) => wrapped(event, context ?? ({} as Context));
}
