/**
 * Service limits of the local S3 and SageMaker, answered with the errors AWS answers: S3 keys over 1,024 bytes
 * (KeyTooLongError), images other than the region's built-in k-NN (ValidationException at CreateTrainingJob and
 * CreateModel), InvokeEndpoint bodies over 6 MiB each way.
 */
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  ListTrainingJobsCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { clusteredCsv, knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { knnImageUri } from '../../local/sagemaker/validation';
import { startS3, startSageMaker, useEmulators } from '../support/emulators';

const KNN = '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1';
const ROLE = 'arn:aws:iam::123456789012:role/knn-sagemaker';

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('S3 object keys: at most 1,024 bytes of UTF-8', () => {
  const BUCKET = 'limits';
  const local = useEmulators(() => startS3({ buckets: [BUCKET] }));
  let s3: S3Client;
  beforeAll(() => {
    s3 = local.s3Client();
  });

  // Path segments under 255 bytes, as a file system under s3rver needs them.
  const keyOf = (bytes: number, filler = 'a') => {
    const segment = `${filler.repeat(99)}/`;
    const whole = segment.repeat(Math.floor(bytes / 100));
    return whole + 'b'.repeat(bytes - Buffer.byteLength(whole));
  };
  const keys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((object) => object.Key);

  it('stores a key of exactly 1,024 bytes', async () => {
    const key = keyOf(1024);
    expect(Buffer.byteLength(key)).toBe(1024);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'ok' }));
    expect(await keys()).toContain(key);
  });

  it('answers PutObject with a 1,025-byte key with KeyTooLongError (400) and stores nothing', async () => {
    const key = keyOf(1025);
    const error = await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'no' })));
    expect(error.name).toBe('KeyTooLongError');
    expect(error.message).toBe('Your key is too long');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(await keys()).not.toContain(key);
  });

  it('counts UTF-8 bytes, not characters: 515 characters making 1,026 bytes are too long', async () => {
    const key =
      'é'.repeat(100) + '/' + 'é'.repeat(100) + '/' + 'é'.repeat(100) + '/' + 'é'.repeat(100) + '/' + 'é'.repeat(111);
    expect(key.length).toBeLessThan(1024);
    expect(Buffer.byteLength(key)).toBeGreaterThan(1024);
    expect((await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' })))).name).toBe(
      'KeyTooLongError',
    );
  });

  it('refuses CopyObject and CreateMultipartUpload to a long key', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'source.txt', Body: 'copy me' }));
    const key = keyOf(1100);
    const copy = await rejection(
      s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: key, CopySource: `${BUCKET}/source.txt` })),
    );
    expect(copy.name).toBe('KeyTooLongError');
    const multipart = await rejection(s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key })));
    expect(multipart.name).toBe('KeyTooLongError');
    expect(await keys()).not.toContain(key);
  });
});

describe('SageMaker runs only the built-in k-NN image', () => {
  const BUCKET = 'images';
  const local = useEmulators(() => startSageMaker({ buckets: [BUCKET], timing: { trainingStartDelayMs: 10 } }));
  let sm: SageMakerClient;
  beforeAll(() => {
    sm = local.sageMakerClient({ maxAttempts: 1 });
  });

  const train = (name: string, algorithm: { TrainingImage?: string; AlgorithmName?: string }) => {
    const request = knnTrainingJobRequest({ name, bucket: BUCKET, trainPrefix: 'train/' });
    return sm.send(
      new CreateTrainingJobCommand({
        ...request,
        AlgorithmSpecification: { TrainingInputMode: 'File', ...algorithm },
      }),
    );
  };

  it('knows the k-NN image of each region', () => {
    expect(knnImageUri('us-east-1')).toBe(KNN);
    expect(knnImageUri('eu-west-1')).toBe('438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1');
    expect(knnImageUri('cn-north-1')).toBe('390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/knn:1');
    expect(knnImageUri('xx-nowhere-1')).toBeUndefined();
  });

  it.each([
    ['not an ECR path', 'knn:1', /^Invalid training image\. Please provide a valid Amazon Elastic Container Registry/],
    [
      'another algorithm',
      '382416733822.dkr.ecr.us-east-1.amazonaws.com/xgboost:1',
      /^Cannot find repository: xgboost in registry ID: 382416733822 Please check .* role arn:aws:iam::123456789012:role\/knn-sagemaker has proper pull permissions/,
    ],
    [
      "another region's k-NN",
      '438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1',
      /^Cannot find repository: knn in registry ID: 438346466558/,
    ],
    [
      'another tag',
      '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:2',
      /^Cannot find the requested image: 382416733822\.dkr\.ecr\.us-east-1\.amazonaws\.com\/knn:2 with tag: 2 and digest: null\./,
    ],
    [
      'no tag',
      '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn',
      /^Cannot find the requested image: .* with tag: latest and digest: null\./,
    ],
  ])('CreateTrainingJob refuses %s with ValidationException and creates no job', async (_case, image, message) => {
    const name = `job-${image.length}-${image.charCodeAt(image.length - 1)}`;
    const error = await rejection(train(name, { TrainingImage: image }));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(message);
    expect((await rejection(sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name })))).name).toBe(
      'ValidationException',
    );
  });

  it('CreateTrainingJob refuses an AlgorithmName: there are no algorithm resources', async () => {
    const error = await rejection(train('by-algorithm-name', { AlgorithmName: 'my-marketplace-algorithm' }));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(
      /^Could not find algorithm "arn:aws:sagemaker:us-east-1:\d{12}:algorithm\/my-marketplace-algorithm"\.$/,
    );
    const jobs = await sm.send(new ListTrainingJobsCommand({}));
    expect(jobs.TrainingJobSummaries?.map((job) => job.TrainingJobName)).not.toContain('by-algorithm-name');
  });

  it('accepts the k-NN image', async () => {
    expect((await train('the-knn-job', { TrainingImage: KNN })).TrainingJobArn).toMatch(/training-job\/the-knn-job$/);
  });

  it.each([
    ['a non-ECR image', 'knn', 'Using non-ECR image "knn" without Vpc repository access mode is not supported.'],
    [
      'another ECR image',
      '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1',
      'Requested image 763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1 not found.',
    ],
  ])('CreateModel refuses %s with ValidationException', async (_case, image, message) => {
    const create = (container: 'PrimaryContainer' | 'Containers') =>
      sm.send(
        new CreateModelCommand({
          ModelName: `model-${container}`,
          ExecutionRoleArn: ROLE,
          ...(container === 'PrimaryContainer'
            ? { PrimaryContainer: { Image: image, ModelDataUrl: `s3://${BUCKET}/model.tar.gz` } }
            : { Containers: [{ Image: image, ModelDataUrl: `s3://${BUCKET}/model.tar.gz` }] }),
        }),
      );
    for (const container of ['PrimaryContainer', 'Containers'] as const) {
      const error = await rejection(create(container));
      expect(error.name).toBe('ValidationException');
      expect(error.message).toBe(message);
    }
  });
});

describe('InvokeEndpoint: 6 MiB each way', () => {
  const BUCKET = 'serving';
  const local = useEmulators(() =>
    startSageMaker({ buckets: [BUCKET], timing: { trainingStartDelayMs: 10, endpointCreateDelayMs: 20 } }),
  );
  let sm: SageMakerClient;
  let runtime: SageMakerRuntimeClient;
  let s3: S3Client;
  const LIMIT = 6_291_456;
  const invoke = (body: string, accept = 'application/json') =>
    runtime.send(
      new InvokeEndpointCommand({
        EndpointName: 'big',
        Body: Buffer.from(body),
        ContentType: 'text/csv',
        Accept: accept,
      }),
    );

  beforeAll(async () => {
    sm = local.sageMakerClient({ maxAttempts: 1 });
    runtime = local.runtimeClient({ maxAttempts: 1 });
    s3 = local.s3Client();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'train/train.csv', Body: clusteredCsv(10) }));
    await sm.send(
      new CreateTrainingJobCommand(
        knnTrainingJobRequest({ name: 'big', bucket: BUCKET, trainPrefix: 'train/', outputPath: `s3://${BUCKET}/out` }),
      ),
    );
    await pollUntil(
      () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'big' })),
      (job) => job.TrainingJobStatus!,
      (job) => job.TrainingJobStatus !== 'InProgress',
    );
    await sm.send(
      new CreateModelCommand({
        ModelName: 'big',
        ExecutionRoleArn: ROLE,
        PrimaryContainer: { Image: KNN, ModelDataUrl: `s3://${BUCKET}/out/big/output/model.tar.gz` },
      }),
    );
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'big',
        ProductionVariants: [
          { VariantName: 'AllTraffic', ModelName: 'big', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' },
        ],
      }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: 'big', EndpointConfigName: 'big' }));
    await pollUntil(
      () => sm.send(new DescribeEndpointCommand({ EndpointName: 'big' })),
      (endpoint) => endpoint.EndpointStatus!,
      (endpoint) => endpoint.EndpointStatus !== 'Creating',
    );
  });

  it('answers a request body over 6 MiB with ValidationError (400)', async () => {
    const row = '0,0,0,0\n';
    const error = await rejection(invoke(row.repeat(Math.floor(LIMIT / row.length)) + '1,1,1,1,1\n'));
    expect(error.name).toBe('ValidationError');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toContain(String(LIMIT));
  });

  it('answers a response over 6 MiB with ModelError (424, OriginalStatusCode 500)', async () => {
    const row = '0,0,0,0\n';
    const verbose = 'application/json; verbose=true';
    const sample = await invoke(row.repeat(100), verbose);
    const bytesPerRow = sample.Body!.length / 100;
    const rows = Math.ceil((LIMIT * 1.05) / bytesPerRow);
    // The request stays far below its own limit; only the answer is too large.
    expect(rows * row.length).toBeLessThan(LIMIT / 4);
    const error = (await rejection(invoke(row.repeat(rows), verbose))) as Error & {
      $metadata?: { httpStatusCode?: number };
      OriginalStatusCode?: number;
      OriginalMessage?: string;
    };
    expect(error.name).toBe('ModelError');
    expect(error.$metadata?.httpStatusCode).toBe(424);
    expect(error.OriginalStatusCode).toBe(500);
    expect(String(error.OriginalMessage)).toMatch(/exceeds the 6291456-byte InvokeEndpoint response limit/);
    // The same rows without verbose output fit.
    expect((await invoke(row.repeat(rows))).Body!.length).toBeLessThanOrEqual(LIMIT);
  });
});
