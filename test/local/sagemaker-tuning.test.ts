/** The local SageMaker's hyperparameter tuning jobs through the SDK: strategies, statuses, best job, stop, listing. */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateHyperParameterTuningJobCommand,
  type CreateHyperParameterTuningJobCommandInput,
  DescribeHyperParameterTuningJobCommand,
  type DescribeHyperParameterTuningJobCommandOutput,
  DescribeTrainingJobCommand,
  ListTrainingJobsForHyperParameterTuningJobCommand,
  type SageMakerClient,
  StopHyperParameterTuningJobCommand,
} from '@aws-sdk/client-sagemaker';
import { knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { irisChannels } from './knn/fixtures';
import { startSageMaker, useEmulators } from '../support/emulators';

const BUCKET = 'tuning-data';
const TERMINAL = ['Completed', 'Failed', 'Stopped'];

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('local SageMaker hyperparameter tuning jobs', () => {
  const local = useEmulators(() =>
    startSageMaker({ buckets: [BUCKET], timing: { trainingStartDelayMs: 20, stopDelayMs: 20 } }),
  );
  let sm: SageMakerClient;
  let s3: S3Client;

  beforeAll(async () => {
    sm = local.sageMakerClient({ maxAttempts: 1 });
    s3 = local.s3Client();
    const { train, test } = irisChannels();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'train/train.csv', Body: train }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'test/test.csv', Body: test }));
  });

  const definition = () => {
    const {
      TrainingJobName: _name,
      HyperParameters: _hp,
      ...rest
    } = knnTrainingJobRequest({
      name: 'unused',
      bucket: BUCKET,
      trainPrefix: 'train/',
      testPrefix: 'test/',
    });
    return { ...rest, StaticHyperParameters: { feature_dim: '4', predictor_type: 'classifier', sample_size: '1000' } };
  };
  const request = (
    name: string,
    config: Partial<CreateHyperParameterTuningJobCommandInput['HyperParameterTuningJobConfig']>,
  ): CreateHyperParameterTuningJobCommandInput => ({
    HyperParameterTuningJobName: name,
    HyperParameterTuningJobConfig: {
      Strategy: 'Grid',
      HyperParameterTuningJobObjective: { Type: 'Maximize', MetricName: 'test:accuracy' },
      ResourceLimits: { MaxParallelTrainingJobs: 3 },
      ParameterRanges: { CategoricalParameterRanges: [{ Name: 'k', Values: ['1', '3', '5', '7'] }] },
      ...config,
    } as CreateHyperParameterTuningJobCommandInput['HyperParameterTuningJobConfig'],
    TrainingJobDefinition: definition() as CreateHyperParameterTuningJobCommandInput['TrainingJobDefinition'],
  });
  const describeJob = (name: string) =>
    sm.send(new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: name }));
  const untilDone = (name: string) =>
    pollUntil<DescribeHyperParameterTuningJobCommandOutput>(
      () => describeJob(name),
      (job) => job.HyperParameterTuningJobStatus!,
      (job) => TERMINAL.includes(job.HyperParameterTuningJobStatus!),
    );
  const listAll = async (name: string) => {
    const found = [];
    let NextToken: string | undefined;
    do {
      const page = await sm.send(
        new ListTrainingJobsForHyperParameterTuningJobCommand({
          HyperParameterTuningJobName: name,
          MaxResults: 2,
          NextToken,
        }),
      );
      found.push(...(page.TrainingJobSummaries ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return found;
  };

  test('Grid runs every value once as <tuning job>-NNN-<hash>, scores each by test:accuracy, and names the best', async () => {
    await sm.send(new CreateHyperParameterTuningJobCommand(request('grid-k', {})));
    const { final, observed } = await untilDone('grid-k');
    expect(observed).toEqual(['InProgress', 'Completed']);
    expect(final.TrainingJobStatusCounters).toMatchObject({ Completed: 4, InProgress: 0, NonRetryableError: 0 });
    expect(final.ObjectiveStatusCounters).toEqual({ Succeeded: 4, Pending: 0, Failed: 0 });
    const jobs = await listAll('grid-k');
    expect(jobs.map((job) => job.TrainingJobName)).toEqual(
      ['001', '002', '003', '004'].map((n) => expect.stringMatching(new RegExp(`^grid-k-${n}-[0-9a-f]{8}$`))),
    );
    expect(jobs.map((job) => job.TunedHyperParameters)).toEqual([{ k: '1' }, { k: '3' }, { k: '5' }, { k: '7' }]);
    const best = Math.max(...jobs.map((job) => job.FinalHyperParameterTuningJobObjectiveMetric!.Value!));
    expect(final.BestTrainingJob?.FinalHyperParameterTuningJobObjectiveMetric).toEqual({
      Type: 'Maximize',
      MetricName: 'test:accuracy',
      Value: best,
    });
    // Each training job has the static and the tuned hyperparameters, and points back at its tuning job.
    const first = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: jobs[0].TrainingJobName }));
    expect(first.HyperParameters).toEqual({
      feature_dim: '4',
      predictor_type: 'classifier',
      sample_size: '1000',
      k: '1',
    });
    expect(first.TuningJobArn).toBe(final.HyperParameterTuningJobArn);
  });

  test('Random draws MaxNumberOfTrainingJobs combinations from the ranges, the same ones for the same RandomSeed', async () => {
    const random = (name: string, seed: number) =>
      request(name, {
        Strategy: 'Random',
        RandomSeed: seed,
        ResourceLimits: { MaxNumberOfTrainingJobs: 5, MaxParallelTrainingJobs: 5 },
        ParameterRanges: { IntegerParameterRanges: [{ Name: 'k', MinValue: '1', MaxValue: '50' }] },
      });
    await sm.send(new CreateHyperParameterTuningJobCommand(random('random-a', 7)));
    await sm.send(new CreateHyperParameterTuningJobCommand(random('random-b', 7)));
    await Promise.all([untilDone('random-a'), untilDone('random-b')]);
    const ks = async (name: string) => (await listAll(name)).map((job) => Number(job.TunedHyperParameters!.k));
    const [a, b] = [await ks('random-a'), await ks('random-b')];
    expect(a).toHaveLength(5);
    expect(a).toEqual(b);
    for (const k of a) expect(k >= 1 && k <= 50).toBe(true);
  });

  test('Stop stops the running training jobs: Stopping, then Stopped', async () => {
    await sm.send(
      new CreateHyperParameterTuningJobCommand(request('to-stop', { ResourceLimits: { MaxParallelTrainingJobs: 1 } })),
    );
    await pollUntil(
      () => listAll('to-stop'),
      (jobs) => String(jobs.length),
      (jobs) => jobs.length > 0,
    );
    await sm.send(new StopHyperParameterTuningJobCommand({ HyperParameterTuningJobName: 'to-stop' }));
    const { final } = await untilDone('to-stop');
    expect(final.HyperParameterTuningJobStatus).toBe('Stopped');
    expect((await listAll('to-stop')).length).toBeLessThan(4);
    const again = await rejection(
      sm.send(new StopHyperParameterTuningJobCommand({ HyperParameterTuningJobName: 'to-stop' })),
    );
    expect(again.message).toMatch(/in status Stopped/);
  });

  test('refused as SageMaker refuses it: long names, integer ranges with Grid, unknown objectives, missing jobs', async () => {
    const tooLong = await rejection(sm.send(new CreateHyperParameterTuningJobCommand(request('x'.repeat(33), {}))));
    expect(tooLong.name).toBe('ValidationException');
    const gridRange = await rejection(
      sm.send(
        new CreateHyperParameterTuningJobCommand(
          request('grid-range', {
            ParameterRanges: { IntegerParameterRanges: [{ Name: 'k', MinValue: '1', MaxValue: '5' }] },
          }),
        ),
      ),
    );
    expect(gridRange.message).toMatch(/Grid search strategy supports only CategoricalParameterRanges/);
    const objective = await rejection(
      sm.send(
        new CreateHyperParameterTuningJobCommand(
          request('bad-metric', {
            HyperParameterTuningJobObjective: { Type: 'Maximize', MetricName: 'validation:f1' },
          }),
        ),
      ),
    );
    expect(objective.message).toMatch(/not a metric of the k-NN algorithm/);
    const missing = await rejection(describeJob('nope'));
    expect(missing.name).toBe('ResourceNotFound');
  });
});
