/**
 * The local Lambda service runs every invocation in a sandbox of its function (a worker thread with the function's
 * bundle, heap limit, timeout and environment): what Lambda enforces and reports, on test-only handlers.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { LambdaFunctionConfig } from '../../../local/lambda/config';
import { FunctionError, LambdaServiceError, MAX_SYNC_PAYLOAD_BYTES } from '../../../local/lambda/errors';
import { LambdaInvoker } from '../../../local/lambda/invoker';
import { reportLine, type InvocationReport } from '../../../local/lambda/report';
import { credentialEnvironment, credentialsFor } from '../../../local/iam/principals';
import { inProcessInvoke } from '../../../local/functions';
import { lambdaTask, TaskError } from '../../../local/stepfunctions/integrations';

const FIXTURES = path.join(__dirname, 'fixtures/handlers.ts');
const REQUEST_ID = /^RequestId: [0-9a-f-]{36} Error: /;

function fixture(exportName: string, memorySize = 256, timeout = 10): LambdaFunctionConfig {
  return {
    key: `fixture-${exportName}-${memorySize}-${timeout}`,
    handler: `test/local/lambda/fixtures/handlers.${exportName}`,
    entry: FIXTURES,
    exportName,
    memorySize,
    timeout,
    runtime: 'nodejs22.x',
  };
}

const FUNCTIONS = [
  fixture('inspect', 256, 7),
  fixture('inspect', 1024, 7),
  fixture('countdown', 256, 2),
  fixture('sleepFor', 256, 1),
  fixture('sleepFor', 256, 3),
  fixture('allocate', 128),
  fixture('allocate', 512),
  fixture('fail'),
  fixture('sized'),
  fixture('count'),
  fixture('count', 256, 1),
  fixture('exit'),
  fixture('hold', 512),
];

let invoker: LambdaInvoker;
const reports: InvocationReport[] = [];

beforeAll(async () => {
  invoker = new LambdaInvoker({
    functions: Object.fromEntries(FUNCTIONS.map((fn) => [fn.key, fn])),
    functionName: (key) => `knn-pipeline-local-${key}`,
    region: 'us-east-1',
    account: '000000000000',
    environment: () => ({ AWS_REGION: 'us-east-1', DATA_BUCKET: 'knn-pipeline-local-data' }),
    credentials: () => credentialEnvironment('function:evaluate'),
    onReport: (report) => reports.push(report),
  });
  await invoker.prepare(); // the bundles: built once, then taken from the cache
}, 120_000);
afterAll(() => invoker.stop());

async function failure(promise: Promise<unknown>): Promise<FunctionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FunctionError);
  return error as FunctionError;
}

async function taskError(promise: Promise<unknown>): Promise<TaskError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TaskError);
  return error as TaskError;
}

describe('environment and context', () => {
  test("the function's name, memory, timeout, own credentials and the stage environment; nothing of the caller's", async () => {
    const result = (await invoker.invoke('fixture-inspect-256-7', {})) as {
      env: Record<string, string | undefined>;
      context: Record<string, unknown>;
    };
    const own = credentialsFor('function:evaluate');
    expect(result.env).toEqual({
      AWS_LAMBDA_FUNCTION_NAME: 'knn-pipeline-local-fixture-inspect-256-7',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_TIMEOUT: '7',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: own.accessKeyId,
      AWS_SECRET_ACCESS_KEY: own.secretAccessKey,
      AWS_SESSION_TOKEN: own.sessionToken,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_LAMBDA_LOG_LEVEL: 'SILENT',
      DATA_BUCKET: 'knn-pipeline-local-data',
    });
    expect(process.env.JEST_WORKER_ID).toBeDefined(); // set here, and not passed on to the sandbox
    expect(result.context).toMatchObject({
      functionName: 'knn-pipeline-local-fixture-inspect-256-7',
      memoryLimitInMB: '256',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:knn-pipeline-local-fixture-inspect-256-7',
    });
    expect(result.context.remaining).toBeGreaterThan(5_000);
    expect(result.context.remaining).toBeLessThanOrEqual(7_000);
  });

  test('a fresh awsRequestId for every invocation', async () => {
    const ids = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      const { context } = (await invoker.invoke('fixture-inspect-256-7', {})) as { context: { awsRequestId: string } };
      expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
      ids.add(context.awsRequestId);
    }
    expect(ids.size).toBe(3);
  });

  test('the V8 heap limit follows memorySize (old space 90 %, young space 10 %, as Lambda sets them)', async () => {
    for (const [key, memorySize] of [
      ['fixture-inspect-256-7', 256],
      ['fixture-inspect-1024-7', 1024],
    ] as const) {
      const { heapSizeLimitMb } = (await invoker.invoke(key, {})) as { heapSizeLimitMb: number };
      expect(heapSizeLimitMb).toBeGreaterThan(memorySize * 0.85);
      expect(heapSizeLimitMb).toBeLessThan(memorySize * 1.1);
    }
  });

  test('getRemainingTimeInMillis counts down from the timeout', async () => {
    const { before, after } = (await invoker.invoke('fixture-countdown-256-2', { ms: 300 })) as {
      before: number;
      after: number;
    };
    expect(before).toBeLessThanOrEqual(2_000);
    expect(before).toBeGreaterThan(0);
    expect(before - after).toBeGreaterThanOrEqual(290);
  });
});

describe('timeout', () => {
  test('a handler running past a 1-second timeout fails with Sandbox.Timedout after 1 second', async () => {
    const started = Date.now();
    const error = await failure(invoker.invoke('fixture-sleepFor-256-1', { ms: 5_000 }));
    const elapsed = Date.now() - started;
    expect(error.payload).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/),
    });
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(5_000); // cut short: the handler would have slept 5 s
    // Within its timeout the same function answers.
    await expect(invoker.invoke('fixture-sleepFor-256-1', { ms: 10 })).resolves.toEqual({ slept: 10 });
  });

  test('a timed-out sandbox is not reused: the next invocation starts fresh (module state gone)', async () => {
    expect(await invoker.invoke('fixture-count-256-1', {})).toBe(1);
    expect(await invoker.invoke('fixture-count-256-1', {})).toBe(2); // warm: the same sandbox
    await failure(invoker.invoke('fixture-count-256-1', { sleepMs: 3_000 }));
    expect(await invoker.invoke('fixture-count-256-1', {})).toBe(1);
  });
});

describe('memory', () => {
  test('a handler exceeding its memorySize fails with Runtime.ExitError (V8 aborts at the heap limit)', async () => {
    const error = await failure(invoker.invoke('fixture-allocate-128-10', { mb: 200 }));
    expect(error.payload).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(
        /^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: signal: aborted$/,
      ),
    });
    // The same allocation fits in a bigger function, and the small one recovers with a fresh sandbox.
    await expect(invoker.invoke('fixture-allocate-512-10', { mb: 200 })).resolves.toEqual({ arrays: 200 });
    await expect(invoker.invoke('fixture-allocate-128-10', { mb: 10 })).resolves.toEqual({ arrays: 10 });
  });

  test('a runtime that exits during an invocation fails with Runtime.ExitError and its exit status', async () => {
    const error = await failure(invoker.invoke('fixture-exit-256-10', { code: 3 }));
    expect(error.payload.errorType).toBe('Runtime.ExitError');
    expect(error.payload.errorMessage).toMatch(REQUEST_ID);
    expect(error.payload.errorMessage).toMatch(/Runtime exited with error: exit status 3$/);
  });
});

describe('memory report (REPORT line)', () => {
  const MiB = 1024 * 1024;
  async function reportOf(key: string, event: unknown): Promise<InvocationReport> {
    const before = reports.length;
    await invoker.invoke(key, event).catch(() => undefined);
    const report = reports.slice(before).find((entry) => entry.functionKey === key);
    if (!report) throw new Error(`no report for ${key}`);
    return report;
  }

  test('an invocation reports peaks at least as large as what it held: heap, and Buffers off the heap', async () => {
    const report = await reportOf('fixture-hold-512-10', { heapMb: 64, bufferMb: 32 });
    expect(report).toMatchObject({
      functionKey: 'fixture-hold-512-10',
      functionName: 'knn-pipeline-local-fixture-hold-512-10',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      memorySizeMb: 512,
      status: 'success',
    });
    const memory = report.memory!;
    expect(memory.heapUsed).toBeGreaterThanOrEqual(64 * MiB);
    expect(memory.heapTotal).toBeGreaterThanOrEqual(memory.heapUsed);
    expect(memory.arrayBuffers).toBeGreaterThanOrEqual(32 * MiB);
    expect(memory.external).toBeGreaterThanOrEqual(memory.arrayBuffers);
    expect(memory.footprint).toBeGreaterThanOrEqual(96 * MiB);
    expect(memory.samples).toBeGreaterThanOrEqual(2);
    const line = reportLine(report);
    expect(line).toMatch(
      /^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: \d+ MB/,
    );
    expect(Number(/Max Memory Used: (\d+) MB/.exec(line)![1])).toBeGreaterThanOrEqual(96);
    expect(Number(/Max Heap Used: (\d+) MB/.exec(line)![1])).toBeGreaterThanOrEqual(64);
  });

  test('a timed-out invocation still reports the peaks its runtime sent while it ran', async () => {
    // 3 s rather than 1 s: on a loaded machine the sandbox may not reach its first sample within 1 s.
    const report = await reportOf('fixture-sleepFor-256-3', { ms: 6_000 });
    expect(report).toMatchObject({ status: 'timeout', errorType: 'Sandbox.Timedout', memorySizeMb: 256 });
    expect(report.memory!.heapUsed).toBeGreaterThan(0);
    expect(reportLine(report)).toContain('\tStatus: timeout');
  });
});

describe('payload quotas (6 MB, synchronous invocation)', () => {
  test('a request over 6,291,456 bytes is refused before the handler runs', async () => {
    const before = await invoker.invoke('fixture-count-256-10', {});
    const oversized = { padding: 'x'.repeat(MAX_SYNC_PAYLOAD_BYTES) };
    const error = await invoker.invoke('fixture-count-256-10', oversized).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LambdaServiceError);
    expect(error).toMatchObject({ name: 'RequestTooLargeException', statusCode: 413 });
    expect(await invoker.invoke('fixture-count-256-10', {})).toBe((before as number) + 1);
  });

  test('a response over 6,291,456 bytes fails with Function.ResponseSizeTooLarge; exactly 6,291,456 passes', async () => {
    const atLimit = await invoker.invoke('fixture-sized-256-10', { bytes: MAX_SYNC_PAYLOAD_BYTES });
    expect((atLimit as string).length).toBe(MAX_SYNC_PAYLOAD_BYTES - 2);
    const error = await failure(invoker.invoke('fixture-sized-256-10', { bytes: MAX_SYNC_PAYLOAD_BYTES + 1 }));
    expect(error.payload).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: `Response payload size (${MAX_SYNC_PAYLOAD_BYTES + 1} bytes) exceeded maximum allowed payload size (${MAX_SYNC_PAYLOAD_BYTES} bytes).`,
    });
  });

  test('through a Lambda Task: Lambda.RequestTooLargeException and Function.ResponseSizeTooLarge', async () => {
    const sized = lambdaTask((event) => invoker.invoke('fixture-sized-256-10', event));
    const tooLarge = await sized({ bytes: 10, padding: 'x'.repeat(MAX_SYNC_PAYLOAD_BYTES) }).catch((e: unknown) => e);
    expect(tooLarge).toBeInstanceOf(TaskError);
    expect(tooLarge).toMatchObject({ name: 'Lambda.RequestTooLargeException' });
    expect((tooLarge as Error).message).toMatch(/Status Code: 413; Error Code: RequestTooLargeException/);
    const response = await sized({ bytes: MAX_SYNC_PAYLOAD_BYTES + 1 }).catch((e: unknown) => e);
    expect(response).toMatchObject({ name: 'Function.ResponseSizeTooLarge' });
    expect(JSON.parse((response as Error).message)).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
  });
});

describe('handler errors reach Step Functions as before (error = name, cause = {errorType, errorMessage, trace})', () => {
  test('isolated and in-process invocations report the same error and cause', async () => {
    const fn = fixture('fail');
    const isolated = await taskError(lambdaTask((event) => invoker.invoke(fn.key, event))({ message: 'bad input' }));
    const inProcess = await taskError(lambdaTask(inProcessInvoke(fn, fn.key))({ message: 'bad input' }));
    for (const error of [isolated, inProcess]) {
      expect(error.name).toBe('FixtureError');
      const cause = JSON.parse(error.message) as { errorType: string; errorMessage: string; trace: string[] };
      expect(Object.keys(cause)).toEqual(['errorType', 'errorMessage', 'trace']);
      expect(cause).toMatchObject({ errorType: 'FixtureError', errorMessage: 'bad input' });
      expect(cause.trace[0]).toBe('FixtureError: bad input');
    }
  });

  test('a timeout as a Task error: Sandbox.Timedout with the payload as cause', async () => {
    const error = await taskError(
      lambdaTask((event) => invoker.invoke('fixture-sleepFor-256-1', event))({ ms: 3_000 }),
    );
    expect(error.name).toBe('Sandbox.Timedout');
    expect(JSON.parse(error.message)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds$/),
    });
  });
});

test('warm reuse: module state survives between invocations of one sandbox', async () => {
  const first = (await invoker.invoke('fixture-count-256-10', {})) as number;
  expect(await invoker.invoke('fixture-count-256-10', {})).toBe(first + 1);
});

test('an idle warm sandbox does not keep the process alive', () => {
  const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, 'fixtures/leaveWarm.ts')], {
    cwd: path.resolve(__dirname, '../../..'),
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(child.stdout).toBe('result 1\n');
  expect(child.status).toBe(0); // not killed by the timeout
});
