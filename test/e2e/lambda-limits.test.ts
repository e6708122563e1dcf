/**
 * Lambda's limits through the real pipeline: the local cloud runs each function isolated with its serverless.yml
 * memorySize and timeout (here lowered for one function by the test-only `functionLimits` option), so a function that
 * runs out of time or memory fails the way it does on AWS, and the definition's Catch sends the execution through
 * CleanUpAfterFailure: FAILED, with the Lambda error, and nothing left in SageMaker.
 */
import { credentialsFor } from '../../local/iam/principals';
import { startCloud, withEmulators } from '../support/emulators';
import { expectNoResourcesLeft, IRIS, putRaw, visitedStates } from '../support/localCloud';

/** A synthetic 3-class CSV of `rows` rows (4 numeric features, label column Species). */
function syntheticCsv(rows: number): string {
  const lines = ['a,b,c,d,Species'];
  for (let i = 0; i < rows; i++)
    lines.push(`${(i % 97) / 10},${(i % 89) / 10},${(i % 83) / 10},${(i % 79) / 10},${['x', 'y', 'z'][i % 3]}`);
  return lines.join('\n');
}

test('the functions run with their serverless.yml limits (overridden where the test says) and own credentials', async () => {
  await withEmulators(
    startCloud({ s3Trigger: false, functionLimits: { evaluate: { timeout: 1 } } }),
    async ({ cloud }) => {
      const functions = cloud.lambda!.functions;
      expect(functions.prepare).toMatchObject({ memorySize: 1769, timeout: 900 });
      expect(functions.split).toMatchObject({ memorySize: 512, timeout: 60 });
      expect(functions.evaluate).toMatchObject({ memorySize: 1024, timeout: 1 });
      expect(functions.cleanup).toMatchObject({ memorySize: 256, timeout: 300 });
      const env = cloud.lambda!.environment(functions.upload, 'stream');
      expect(env).toMatchObject({
        AWS_LAMBDA_FUNCTION_NAME: 'knn-pipeline-local-upload',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769',
        AWS_ACCESS_KEY_ID: credentialsFor('function:upload').accessKeyId,
        AWS_SESSION_TOKEN: credentialsFor('function:upload').sessionToken,
        AWS_ENDPOINT_URL_S3: cloud.s3.endpoint,
        DATA_BUCKET: 'knn-pipeline-local-data',
      });
    },
  );
});

test('Evaluate runs past its timeout: Sandbox.Timedout, FAILED after CleanUpAfterFailure, nothing left', async () => {
  await withEmulators(
    startCloud({ s3Trigger: false, functionLimits: { evaluate: { timeout: 1 } } }),
    async ({ cloud }) => {
      await putRaw('raw/iris.csv', IRIS);
      // A slow endpoint: every InvokeEndpoint answers after 2 s, so Evaluate cannot finish within its 1 s.
      cloud.sageMaker.faults.delay('InvokeEndpoint', 2_000);
      const record = await cloud.startExecution({ dataset: { key: 'raw/iris.csv' } }).done;
      expect(record.status).toBe('FAILED');
      expect(record.error).toBe('Sandbox.Timedout');
      expect(record.cause).toMatch(
        /^Evaluate failed: Sandbox\.Timedout: RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds\. /,
      );
      expect(visitedStates(record).slice(-3)).toEqual(['Evaluate', 'CleanUpAfterFailure', 'PipelineFailed']);
      await expectNoResourcesLeft(cloud, record);
    },
  );
}, 120_000);

// Running out of memory is Runtime.ExitError (test/local/lambda/invoker.test.ts); the data functions no longer do:
// they keep a few bytes a row off the heap and bounded batches on it, so even Lambda's smallest size carries them.
test('Prepare, Split, Upload and Evaluate at 128 MB each carry a 2,000,000-row run to the quality gate', async () => {
  const smallest = { memorySize: 128 };
  await withEmulators(
    startCloud({
      s3Trigger: false,
      functionLimits: { prepare: smallest, split: smallest, upload: smallest, evaluate: smallest },
    }),
    async ({ cloud }) => {
      await putRaw('raw/big.csv', syntheticCsv(2_000_000));
      const record = await cloud.startExecution({ dataset: { key: 'raw/big.csv' } }).done;
      // The synthetic labels cannot be learnt from these features: the run ends at the gate, after every data step.
      expect(record.error).toBe('QualityGateNotMet');
      expect(visitedStates(record)).toEqual(
        expect.arrayContaining(['Prepare', 'Split', 'Upload', 'Train', 'Evaluate', 'CleanUp', 'Report']),
      );
      const small = cloud.lambdaReports.filter((report) => report.memorySizeMb === 128);
      expect(small.map((report) => [report.functionKey, report.status]).sort()).toEqual([
        ['evaluate', 'success'],
        ['prepare', 'success'],
        ['split', 'success'],
        ['upload', 'success'],
      ]);
      await expectNoResourcesLeft(cloud, record);
    },
  );
}, 240_000);
