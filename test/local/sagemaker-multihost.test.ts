import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { type KnnModel, unpackModelArtifact } from '../../local/knn/model';
import { sampleRows } from '../../local/knn/sampling';
import { knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { irisChannels } from './knn/fixtures';
import { startSageMaker, useEmulators } from '../support/emulators';

const BUCKET = 'multi-host';
const IRIS_K1 = { feature_dim: '4', k: '1', predictor_type: 'classifier', sample_size: '200' };
const TERMINAL = ['Completed', 'Failed', 'Stopped'];

/** Rows of a label-first CSV as float32 feature vectors (what the index stores). */
const featureRows = (csv: string) =>
  csv
    .trim()
    .split('\n')
    .map((line) => Array.from(new Float32Array(line.split(',').slice(1).map(Number))));

const modelRows = (model: KnnModel) =>
  Array.from({ length: model.count }, (_, i) => Array.from(model.points.subarray(i * model.dim, (i + 1) * model.dim)));

describe('local SageMaker: training on several hosts', () => {
  const local = useEmulators(() => startSageMaker({ buckets: [BUCKET], timing: { trainingStartDelayMs: 20 } }));
  let sm: SageMakerClient;
  let s3: S3Client;
  const { train, test } = irisChannels();
  const trainLines = train.trim().split('\n');
  // The train channel as Upload writes it for instanceCount 2: two shard objects, in the channel's row order.
  const shards = [`${trainLines.slice(0, 56).join('\n')}\n`, `${trainLines.slice(56).join('\n')}\n`];

  const put = (key: string, body: string | Buffer) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const run = async (name: string, configure: (request: CreateTrainingJobCommandInput) => void = () => undefined) => {
    const request = knnTrainingJobRequest({
      name,
      bucket: BUCKET,
      trainPrefix: 'iris/train/',
      testPrefix: 'iris/test/',
      outputPath: `s3://${BUCKET}/models/`,
      hyperParameters: IRIS_K1,
    });
    configure(request);
    await sm.send(new CreateTrainingJobCommand(request));
    const { final } = await pollUntil<DescribeTrainingJobCommandOutput>(
      () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name })),
      (job) => job.TrainingJobStatus!,
      (job) => TERMINAL.includes(job.TrainingJobStatus!),
    );
    return final;
  };
  const sharded = (hosts: number, distribution: 'ShardedByS3Key' | 'FullyReplicated' = 'ShardedByS3Key') => {
    return (request: CreateTrainingJobCommandInput) => {
      request.ResourceConfig!.InstanceCount = hosts;
      request.InputDataConfig![0].DataSource!.S3DataSource!.S3DataDistributionType = distribution;
    };
  };
  const model = async (name: string) => {
    const artifact = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `models/${name}/output/model.tar.gz` }));
    return unpackModelArtifact(Buffer.from(await artifact.Body!.transformToByteArray()));
  };

  beforeAll(async () => {
    sm = local.sageMakerClient({ maxAttempts: 1 });
    s3 = local.s3Client();
    await put('iris/train/shard-0000.csv', shards[0]);
    await put('iris/train/shard-0001.csv', shards[1]);
    await put('iris/test/test.csv', test);
    await put('gz/train/shard-0000.csv.gz', gzipSync(shards[0]));
    await put('gz/train/shard-0001.csv.gz', gzipSync(shards[1]));
    await put('notgz/train/part.csv.gz', shards[0]);
  });

  it('ShardedByS3Key on 2 hosts: each host reads one shard, the index holds both samples', async () => {
    const job = await run('iris-2-hosts', sharded(2));
    expect(job.TrainingJobStatus).toBe('Completed');
    // sample_size 200 ≥ 112 rows: each host's share (100) takes all of its 56 rows, host 1's first
    const trained = await model('iris-2-hosts');
    expect(trained.count).toBe(112);
    expect(modelRows(trained)).toEqual([...featureRows(shards[0]), ...featureRows(shards[1])]);
    // the same points in the same order as one host on the whole channel: the reference scores
    expect(Object.fromEntries(job.FinalMetricDataList!.map((m) => [m.MetricName, m.Value]))).toEqual({
      'test:accuracy': 0.9736842105263158,
      'test:macro_f_1.000': 0.97170347,
    });

    const log = local.sageMaker.trainingJobLog('iris-2-hosts');
    const saw = (host: number) => log.find((line) => line.includes(`for algo-${host} of 2`));
    expect(saw(1)).toMatch(/ShardedByS3Key: 1 object: s3:\/\/multi-host\/iris\/train\/shard-0000\.csv\)$/);
    expect(saw(2)).toMatch(/ShardedByS3Key: 1 object: s3:\/\/multi-host\/iris\/train\/shard-0001\.csv\)$/);
    expect(
      log.filter((line) => /Using per-worker sample size = 100 \(.*number of workers = 2\)/.test(line)),
    ).toHaveLength(2);
    expect(
      log.some((line) =>
        line.endsWith('Read 56 rows from channel "train" on algo-2; sampled 56 of them into the index.'),
      ),
    ).toBe(true);
  });

  it('sample_size is split across the hosts: each samples sample_size / N of its own shard', async () => {
    const job = await run('iris-2-hosts-sampled', (request) => {
      sharded(2)(request);
      request.HyperParameters = { ...IRIS_K1, sample_size: '100' };
    });
    expect(job.TrainingJobStatus).toBe('Completed');
    const trained = await model('iris-2-hosts-sampled');
    expect(trained.count).toBe(100);
    // host h samples 50 rows of its shard with seed (default 0) + h; host 1's sample comes first
    const [first, second] = shards.map(featureRows);
    const expected = [
      ...Array.from(sampleRows(56, 50, 0), (row) => first[row]),
      ...Array.from(sampleRows(56, 50, 1), (row) => second[row]),
    ];
    expect(modelRows(trained)).toEqual(expected);
    const log = local.sageMaker.trainingJobLog('iris-2-hosts-sampled');
    expect(
      log.filter((line) => /Using per-worker sample size = 50 \(.*number of workers = 2\)/.test(line)),
    ).toHaveLength(2);
  });

  it('FullyReplicated on 2 hosts: both hosts read every object and sample sample_size / 2 of them', async () => {
    const job = await run('iris-2-hosts-replicated', (request) => {
      sharded(2, 'FullyReplicated')(request);
      request.HyperParameters = { ...IRIS_K1, sample_size: '100' };
    });
    expect(job.TrainingJobStatus).toBe('Completed');
    const trained = await model('iris-2-hosts-replicated');
    const all = featureRows(train);
    expect(modelRows(trained)).toEqual([
      ...Array.from(sampleRows(112, 50, 0), (row) => all[row]),
      ...Array.from(sampleRows(112, 50, 1), (row) => all[row]),
    ]);
    const log = local.sageMaker.trainingJobLog('iris-2-hosts-replicated');
    expect(
      log.some((line) =>
        /Downloading channel train \(\d+ bytes\) from s3:\/\/multi-host\/iris\/train\/ \(2 objects\)$/.test(line),
      ),
    ).toBe(true);
  });

  it('a host that receives no object fails the job (more hosts than shards)', async () => {
    const job = await run('iris-3-hosts', sharded(3));
    expect(job.TrainingJobStatus).toBe('Failed');
    expect(job.FailureReason).toBe(
      'ClientError: Unable to read the training data (text/csv, label first, no header): channel "train" (algo-3): is empty',
    );
  });

  it('reads gzip shards as streams, and fails a Gzip channel whose object is not gzip', async () => {
    const gz = await run('iris-gzip', (request) => {
      sharded(2)(request);
      request.InputDataConfig![0].DataSource!.S3DataSource!.S3Uri = `s3://${BUCKET}/gz/train/`;
      request.InputDataConfig![0].CompressionType = 'Gzip';
    });
    expect(gz.TrainingJobStatus).toBe('Completed');
    expect(modelRows(await model('iris-gzip'))).toEqual(featureRows(train));

    const notGzip = await run('iris-not-gzip', (request) => {
      request.InputDataConfig![0].DataSource!.S3DataSource!.S3Uri = `s3://${BUCKET}/notgz/train/`;
      request.InputDataConfig![0].CompressionType = 'Gzip';
    });
    expect(notGzip.FailureReason).toBe(
      `ClientError: Channel 'train' has CompressionType Gzip but s3://${BUCKET}/notgz/train/part.csv.gz is not gzip data.`,
    );
  });
});
