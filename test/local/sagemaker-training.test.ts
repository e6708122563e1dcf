import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  ListModelsCommand,
  type SageMakerClient,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { clusteredCsv, knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { unpackModelArtifact } from '../../local/knn/model';
import { startSageMaker, useEmulators, withEmulators } from '../support/emulators';

const BUCKET = 'training-data';
const LOG_LINE = /^\[\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} (INFO|ERROR) 140285487171328\] /;
const TERMINAL = ['Completed', 'Failed', 'Stopped'];

describe('local SageMaker training jobs', () => {
  const local = useEmulators(() =>
    startSageMaker({ buckets: [BUCKET], timing: { trainingStartDelayMs: 40, stopDelayMs: 40 } }),
  );
  let sm: SageMakerClient;
  let s3: S3Client;

  beforeAll(async () => {
    sm = local.sageMakerClient();
    s3 = local.s3Client();
    const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    // train split over two objects, the first without a final newline: they must join as separate rows
    const train = clusteredCsv(20);
    const cut = train.indexOf('\n', train.length / 2);
    await put('iris/train/part-0001.csv', train.slice(0, cut));
    await put('iris/train/part-0002.csv', train.slice(cut + 1));
    await put('iris/test/test.csv', clusteredCsv(5, 1000));
    await put('iris/validation/validation.csv', clusteredCsv(2));
  });

  const describeJob = (name: string) => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
  const waitForJob = (name: string) =>
    pollUntil<DescribeTrainingJobCommandOutput>(
      () => describeJob(name),
      (job) => `${job.TrainingJobStatus}/${job.SecondaryStatus}`,
      (job) => TERMINAL.includes(job.TrainingJobStatus!),
    );
  const request = (name: string, overrides: Partial<Parameters<typeof knnTrainingJobRequest>[0]> = {}) =>
    knnTrainingJobRequest({
      name,
      bucket: BUCKET,
      trainPrefix: 'iris/train/',
      testPrefix: 'iris/test/',
      outputPath: `s3://${BUCKET}/models/`,
      ...overrides,
    });

  it('trains on the train channel, scores the test channel and uploads model.tar.gz', async () => {
    await sm.send(new CreateTrainingJobCommand(request('knn-ok')));
    const { final: job, observed } = await waitForJob('knn-ok');

    expect(job.TrainingJobStatus).toBe('Completed');
    expect(job.FailureReason).toBeUndefined();
    expect(observed[0]).toMatch(/^InProgress\//);
    expect(observed.at(-1)).toBe('Completed/Completed');
    expect(job.SecondaryStatusTransitions!.map((t) => t.Status)).toEqual([
      'Starting',
      'Downloading',
      'Training',
      'Uploading',
      'Completed',
    ]);
    for (const transition of job.SecondaryStatusTransitions!) {
      expect(transition.StartTime).toBeInstanceOf(Date);
      expect(transition.EndTime).toBeInstanceOf(Date);
      expect(transition.StatusMessage).toEqual(expect.any(String));
    }
    expect(job.TrainingStartTime).toBeInstanceOf(Date);
    expect(job.TrainingEndTime!.getTime()).toBeGreaterThanOrEqual(job.TrainingStartTime!.getTime());
    expect(job.TrainingTimeInSeconds).toBeGreaterThanOrEqual(1);
    expect(job.BillableTimeInSeconds).toBeGreaterThanOrEqual(1);
    expect(job.HyperParameters).toEqual({
      feature_dim: '4',
      k: '3',
      predictor_type: 'classifier',
      sample_size: '1000',
    });
    expect(job.ResourceConfig).toEqual({ InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 });
    expect(job.InputDataConfig!.map((c) => c.ChannelName)).toEqual(['train', 'test']);
    expect(job.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600 });

    const metrics = Object.fromEntries(job.FinalMetricDataList!.map((m) => [m.MetricName, m.Value]));
    expect(metrics['test:accuracy']).toBe(1);
    expect(job.FinalMetricDataList![0].Timestamp).toBeInstanceOf(Date);

    const artifactUri = `s3://${BUCKET}/models/knn-ok/output/model.tar.gz`;
    expect(job.ModelArtifacts).toEqual({ S3ModelArtifacts: artifactUri });
    const artifact = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'models/knn-ok/output/model.tar.gz' }));
    const model = await unpackModelArtifact(Buffer.from(await artifact.Body!.transformToByteArray()));
    expect(model.count).toBe(60); // both train objects, 20 rows per class, no row lost at the object boundary
    expect(model.dim).toBe(4);

    const log = local.sageMaker.trainingJobLog('knn-ok');
    expect(log.every((line) => LOG_LINE.test(line))).toBe(true);
    expect(log[0]).toMatch(/Starting training job knn-ok$/);
    expect(log.some((line) => /Downloading channel train \(\d+ bytes\)/.test(line))).toBe(true);
    expect(log.some((line) => /Downloading channel test \(\d+ bytes\)/.test(line))).toBe(true);
    expect(log.some((line) => line.includes("#test_score (algo-1) : ('accuracy', 1.0)"))).toBe(true);
    const logFile = join(local.directory, 'logs', 'TrainingJobs', 'knn-ok.log');
    expect(readFileSync(logFile, 'utf8').trimEnd().split('\n')).toEqual(log);
  });

  it('omits FinalMetricDataList without a test channel', async () => {
    await sm.send(new CreateTrainingJobCommand(request('knn-no-test', { testPrefix: undefined })));
    const { final: job } = await waitForJob('knn-no-test');
    expect(job.TrainingJobStatus).toBe('Completed');
    expect(job.FinalMetricDataList).toBeUndefined();
  });

  it('fails the job with a ClientError on a bad hyperparameter and keeps serving', async () => {
    const hyperParameters = { feature_dim: '4', k: 'three', predictor_type: 'classifier', sample_size: '1000' };
    await sm.send(new CreateTrainingJobCommand(request('knn-bad-k', { hyperParameters })));
    const { final: job } = await waitForJob('knn-bad-k');
    expect(job.TrainingJobStatus).toBe('Failed');
    expect(job.SecondaryStatus).toBe('Failed');
    expect(job.FailureReason).toMatch(/^ClientError: /);
    expect(job.FailureReason).toContain("'k'");
    expect(job.ModelArtifacts).toBeUndefined();
    expect(job.BillableTimeInSeconds).toBeGreaterThanOrEqual(1);
    expect(local.sageMaker.trainingJobLog('knn-bad-k').at(-1)).toMatch(/ERROR .*Training job failed: ClientError: /);
    // the server is still healthy
    expect((await sm.send(new ListModelsCommand({}))).Models).toEqual([]);
  });

  it.each([
    [
      'an extra channel',
      { testPrefix: undefined },
      'validation',
      /^ClientError: .*Additional properties are not allowed \('validation' was unexpected\)/s,
    ],
    [
      'a non-CSV content type',
      { contentType: 'application/json' },
      undefined,
      /^ClientError: .*'application\/json' is not one of/s,
    ],
    [
      'an empty S3 prefix',
      { trainPrefix: 'nothing/here/' },
      undefined,
      /^ClientError: Data download failed:No S3 objects found under S3 URL "s3:\/\/training-data\/nothing\/here\/"/,
    ],
  ])('fails with a ClientError on %s', async (_label, overrides, extraChannel, reason) => {
    const name = `knn-channel-${Math.random().toString(36).slice(2, 8)}`;
    const jobRequest = request(name, overrides);
    if (extraChannel)
      jobRequest.InputDataConfig!.push({ ...jobRequest.InputDataConfig![0], ChannelName: extraChannel });
    await sm.send(new CreateTrainingJobCommand(jobRequest));
    const { final: job } = await waitForJob(name);
    expect(job.TrainingJobStatus).toBe('Failed');
    expect(job.FailureReason).toMatch(reason);
  });

  it('fails when the train channel is missing', async () => {
    const jobRequest = request('knn-only-test');
    jobRequest.InputDataConfig = jobRequest.InputDataConfig!.filter((c) => c.ChannelName === 'test');
    await sm.send(new CreateTrainingJobCommand(jobRequest));
    const { final: job } = await waitForJob('knn-only-test');
    expect(job.FailureReason).toMatch(/^ClientError: .*'train' is a required property/s);
  });

  it('stops a job mid-training: Stopping → Stopped without FailureReason', async () => {
    await sm.send(new CreateTrainingJobCommand(request('knn-stop')));
    await sm.send(new StopTrainingJobCommand({ TrainingJobName: 'knn-stop' }));
    const stopping = await describeJob('knn-stop');
    expect(stopping.TrainingJobStatus).toBe('Stopping');
    expect(stopping.SecondaryStatus).toBe('Stopping');

    const { final: job } = await waitForJob('knn-stop');
    expect(job.TrainingJobStatus).toBe('Stopped');
    expect(job.SecondaryStatus).toBe('Stopped');
    expect(job.FailureReason).toBeUndefined();
    expect(job.ModelArtifacts).toBeUndefined();
    const statuses = job.SecondaryStatusTransitions!.map((t) => t.Status);
    expect(statuses[0]).toBe('Starting');
    expect(statuses.slice(-2)).toEqual(['Stopping', 'Stopped']);
    // nothing of the stopped job runs later
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await describeJob('knn-stop')).TrainingJobStatus).toBe('Stopped');
    expect(existsSync(join(local.s3.directory, BUCKET, 'models', 'knn-stop'))).toBe(false);

    const again = sm.send(new StopTrainingJobCommand({ TrainingJobName: 'knn-stop' }));
    await expect(again).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'The request was rejected because the training job is in status Stopped.',
    });
  });

  it('stops a job that is already downloading or training; the late result is discarded', async () => {
    const slowTiming = { trainingStartDelayMs: 200, stopDelayMs: 20 };
    await withEmulators(startSageMaker({ s3: local.s3, timing: slowTiming }), async (slow) => {
      const slowClient = slow.sageMakerClient();
      await slowClient.send(
        new CreateTrainingJobCommand(request('knn-stop-late', { outputPath: `s3://${BUCKET}/late-models/` })),
      );
      const running = await pollUntil(
        () => slowClient.send(new DescribeTrainingJobCommand({ TrainingJobName: 'knn-stop-late' })),
        (job) => job.SecondaryStatus!,
        (job) => job.SecondaryStatus === 'Downloading' || job.SecondaryStatus === 'Training',
        { intervalMs: 5 },
      );
      await slowClient.send(new StopTrainingJobCommand({ TrainingJobName: 'knn-stop-late' }));
      const { final: job } = await pollUntil(
        () => slowClient.send(new DescribeTrainingJobCommand({ TrainingJobName: 'knn-stop-late' })),
        (j) => j.TrainingJobStatus!,
        (j) => TERMINAL.includes(j.TrainingJobStatus!),
      );
      expect(job.TrainingJobStatus).toBe('Stopped');
      const statuses = job.SecondaryStatusTransitions!.map((t) => t.Status);
      expect(statuses.slice(0, 2)).toEqual(['Starting', 'Downloading']);
      expect(statuses).toContain(running.final.SecondaryStatus);
      expect(statuses.slice(-2)).toEqual(['Stopping', 'Stopped']);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const later = await slowClient.send(new DescribeTrainingJobCommand({ TrainingJobName: 'knn-stop-late' }));
      expect(later.TrainingJobStatus).toBe('Stopped');
      expect(later.ModelArtifacts).toBeUndefined();
    });
  });

  it('rejects stopping a completed job', async () => {
    await expect(sm.send(new StopTrainingJobCommand({ TrainingJobName: 'knn-ok' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'The request was rejected because the training job is in status Completed.',
    });
  });

  it('fails the next job on demand (failNextTrainingJobs)', async () => {
    local.sageMaker.faults.failNextTrainingJobs('AlgorithmError: injected crash');
    await sm.send(new CreateTrainingJobCommand(request('knn-injected')));
    await sm.send(new CreateTrainingJobCommand(request('knn-after-injected')));
    expect((await waitForJob('knn-injected')).final).toMatchObject({
      TrainingJobStatus: 'Failed',
      FailureReason: 'AlgorithmError: injected crash',
    });
    expect((await waitForJob('knn-after-injected')).final.TrainingJobStatus).toBe('Completed');
  });
});
