import type { Context } from 'aws-lambda';
import type * as HandlerModule from '../../../src/lambda/handler';
import type * as LoggerModule from '../../../src/log/logger';

let lambdaHandler: typeof HandlerModule.lambdaHandler;
let logger: typeof LoggerModule.logger;
const lines: Record<string, unknown>[] = [];
const saved = { dev: process.env.POWERTOOLS_DEV, level: process.env.POWERTOOLS_LOG_LEVEL };

beforeAll(async () => {
  // Dev mode logs through the global console, so the test can read every line the logger writes.
  process.env.POWERTOOLS_DEV = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  await jest.isolateModulesAsync(async () => {
    ({ lambdaHandler } = await import('../../../src/lambda/handler'));
    ({ logger } = await import('../../../src/log/logger'));
  });
  const capture = (text?: unknown) => void lines.push(JSON.parse(String(text)));
  jest.spyOn(console, 'info').mockImplementation(capture);
  jest.spyOn(console, 'warn').mockImplementation(capture);
  jest.spyOn(console, 'error').mockImplementation(capture);
});

afterAll(() => {
  jest.restoreAllMocks();
  process.env.POWERTOOLS_DEV = saved.dev;
  process.env.POWERTOOLS_LOG_LEVEL = saved.level;
  if (saved.dev === undefined) delete process.env.POWERTOOLS_DEV;
});

beforeEach(() => {
  lines.length = 0;
});

const context = (awsRequestId: string) =>
  ({
    awsRequestId,
    functionName: 'knn-pipeline-dev-split',
    getRemainingTimeInMillis: () => 60_000,
  }) as Context;

test('keys appended in one invocation never reach the next one on the same warm logger', async () => {
  const handler = lambdaHandler(async (event: { runId?: string }) => {
    if (event.runId) logger.appendKeys({ runId: event.runId });
    logger.info('working');
    return event.runId ?? 'none';
  });
  expect(await handler({ runId: 'run-a' }, context('req-1'))).toBe('run-a');
  expect(await handler({}, context('req-2'))).toBe('none');
  expect(lines).toEqual([
    expect.objectContaining({ message: 'working', runId: 'run-a', function_request_id: 'req-1' }),
    expect.objectContaining({ message: 'working', function_request_id: 'req-2' }),
  ]);
  expect(lines[1]).not.toHaveProperty('runId');
  expect(lines[0]).toMatchObject({ function_name: 'knn-pipeline-dev-split' });
});

test('a failure is logged once with its cause and rethrown unchanged, so Step Functions sees the same name', async () => {
  class SplitFailed extends Error {
    override name = 'SplitError';
  }
  const thrown = new SplitFailed('too few rows', { cause: new Error('3 rows for 2 folds') });
  const handler = lambdaHandler(async (_event: { runId: string }) => {
    logger.appendKeys({ runId: 'run-b' });
    throw thrown;
  });
  await expect(handler({ runId: 'run-b' }, context('req-3'))).rejects.toBe(thrown);
  const errors = lines.filter((line) => line.level === 'ERROR');
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({
    message: 'Invocation failed',
    runId: 'run-b',
    error: { name: 'SplitError', message: 'too few rows', cause: { name: 'Error', message: '3 rows for 2 folds' } },
  });
  // The failed invocation's keys are cleared as well.
  await lambdaHandler(async () => logger.info('next'))({}, context('req-4'));
  expect(lines.at(-1)).not.toHaveProperty('runId');
});

test('callers without a Lambda context (tests, in-process invocations) still run the handler', async () => {
  expect(await lambdaHandler(async (event: number) => event + 1)(41)).toBe(42);
});
