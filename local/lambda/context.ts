// The Lambda context a handler receives, for the sandboxes (runtime.ts) and for in-process handlers alike.
import type { Context } from 'aws-lambda';

export interface ContextFacts {
  functionName: string;
  functionArn: string;
  memorySize: number;
  logGroupName: string;
  logStreamName: string;
  requestId: string;
  /** Epoch milliseconds at which the invocation times out. */
  deadline: number;
}

function notCallbackStyle(): never {
  throw new Error('The local Lambda runtime supports async handlers only: no callback-style context methods');
}

export function lambdaContextOf(facts: ContextFacts): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: facts.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: facts.functionArn,
    memoryLimitInMB: String(facts.memorySize),
    awsRequestId: facts.requestId,
    logGroupName: facts.logGroupName,
    logStreamName: facts.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, facts.deadline - Date.now()),
    done: notCallbackStyle,
    fail: notCallbackStyle,
    succeed: notCallbackStyle,
  };
}
