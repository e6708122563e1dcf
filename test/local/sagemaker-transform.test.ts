import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  CreateTransformJobCommand,
  type CreateTransformJobCommandInput,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  DescribeTransformJobCommand,
  type DescribeTransformJobCommandOutput,
  ListTagsCommand,
  ListTransformJobsCommand,
  type SageMakerClient,
  StopTransformJobCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { irisChannels } from './knn/fixtures';
import { startSageMaker, useEmulators } from '../support/emulators';

const BUCKET = 'transform-data';
const ACCOUNT = '222233334444';
const IMAGE = '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1';
const ROLE = 'arn:aws:iam::123456789012:role/knn-sagemaker';
const TERMINAL = ['Completed', 'Failed', 'Stopped'];

type Failure = Error & { $metadata: { httpStatusCode?: number } };
async function rejection(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error('expected the call to fail');
}

describe('local SageMaker transform jobs', () => {
  const local = useEmulators(() =>
    startSageMaker({
      buckets: [BUCKET],
      accountId: ACCOUNT,
      timing: { trainingStartDelayMs: 20, endpointCreateDelayMs: 20, transformStartDelayMs: 20, stopDelayMs: 20 },
    }),
  );
  let sm: SageMakerClient;
  let runtime: SageMakerRuntimeClient;
  let s3: S3Client;
  const { train, test } = irisChannels();
  const labelled = test.trim().split('\n'); // 38 rows, label first
  const features = labelled.map((line) => line.split(',').slice(1).join(','));
  /** What InvokeEndpoint answers for every test row (application/jsonlines), one line per row. */
  let endpointAnswers: string[];

  const put = (key: string, body: string | Buffer) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const get = async (key: string) =>
    Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray(),
    ).toString('utf8');
  const keysUnder = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);
  const describeJob = (name: string) => sm.send(new DescribeTransformJobCommand({ TransformJobName: name }));
  const request = (name: string, overrides: Partial<CreateTransformJobCommandInput> = {}) => ({
    TransformJobName: name,
    ModelName: 'iris-model',
    BatchStrategy: 'MultiRecord' as const,
    TransformInput: {
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: `s3://${BUCKET}/features/` } },
      ContentType: 'text/csv',
      SplitType: 'Line' as const,
    },
    TransformOutput: {
      S3OutputPath: `s3://${BUCKET}/out/${name}`,
      Accept: 'application/jsonlines',
      AssembleWith: 'Line' as const,
    },
    TransformResources: { InstanceType: 'ml.m5.large' as const, InstanceCount: 1 },
    ...overrides,
  });
  const run = async (name: string, overrides: Partial<CreateTransformJobCommandInput> = {}) => {
    await sm.send(new CreateTransformJobCommand(request(name, overrides)));
    return pollUntil<DescribeTransformJobCommandOutput>(
      () => describeJob(name),
      (job) => job.TransformJobStatus!,
      (job) => TERMINAL.includes(job.TransformJobStatus!),
    );
  };
  const labelledInput = (overrides: Partial<CreateTransformJobCommandInput['TransformInput']> = {}) => ({
    TransformInput: {
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: `s3://${BUCKET}/labelled/test.csv` } },
      ContentType: 'text/csv',
      SplitType: 'Line' as const,
      ...overrides,
    },
  });

  beforeAll(async () => {
    sm = local.sageMakerClient({ maxAttempts: 1 });
    runtime = local.runtimeClient({ maxAttempts: 1 });
    s3 = local.s3Client();
    await put('iris/train/train.csv', train);
    // the test rows as two objects, one of them in a "folder": outputs keep the names relative to the prefix
    await put('features/part-0.csv', `${features.slice(0, 20).join('\n')}\n`);
    await put('features/sub/part-1.csv', features.slice(20).join('\n')); // no final newline
    await put('labelled/test.csv', `${labelled.join('\n')}\n`);
    await sm.send(
      new CreateTrainingJobCommand(
        knnTrainingJobRequest({
          name: 'iris-train',
          bucket: BUCKET,
          trainPrefix: 'iris/train/',
          outputPath: `s3://${BUCKET}/models`,
          hyperParameters: { feature_dim: '4', k: '3', predictor_type: 'classifier', sample_size: '200' },
        }),
      ),
    );
    await pollUntil(
      () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'iris-train' })),
      (job) => job.TrainingJobStatus!,
      (job) => job.TrainingJobStatus !== 'InProgress',
    );
    await sm.send(
      new CreateModelCommand({
        ModelName: 'iris-model',
        ExecutionRoleArn: ROLE,
        PrimaryContainer: { Image: IMAGE, ModelDataUrl: `s3://${BUCKET}/models/iris-train/output/model.tar.gz` },
      }),
    );
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'iris-config',
        ProductionVariants: [
          { VariantName: 'AllTraffic', ModelName: 'iris-model', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 },
        ],
      }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: 'iris', EndpointConfigName: 'iris-config' }));
    await pollUntil(
      () => sm.send(new DescribeEndpointCommand({ EndpointName: 'iris' })),
      (e) => e.EndpointStatus!,
      (e) => e.EndpointStatus === 'InService',
    );
    const answer = await runtime.send(
      new InvokeEndpointCommand({
        EndpointName: 'iris',
        Body: Buffer.from(features.join('\n')),
        ContentType: 'text/csv',
        Accept: 'application/jsonlines',
      }),
    );
    endpointAnswers = Buffer.from(answer.Body).toString('utf8').split('\n');
    expect(endpointAnswers).toHaveLength(38);
  });

  describe('CreateTransformJob validation', () => {
    it('names every constraint violation, as the API does', async () => {
      const error = await rejection(
        sm.send(
          new CreateTransformJobCommand({
            TransformJobName: 'bad_name',
            ModelName: 'iris-model',
            MaxPayloadInMB: -1,
            BatchStrategy: 'Multi' as never,
            TransformInput: {
              DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 'ftp://x' } },
              SplitType: 'Lines' as never,
            },
            TransformOutput: { S3OutputPath: `s3://${BUCKET}/out`, AssembleWith: 'Lines' as never },
            TransformResources: { InstanceType: 'm5.large' as never, InstanceCount: 0 },
            DataProcessing: { InputFilter: `$[${'1,'.repeat(31)}1]`, JoinSource: 'Output' as never },
          }),
        ),
      );
      expect(error.name).toBe('ValidationException');
      expect(error.message.split('; ')).toEqual([
        "10 validation errors detected: Value 'bad_name' at 'transformJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
        "Value '-1' at 'maxPayloadInMB' failed to satisfy constraint: Member must have value greater than or equal to 0",
        "Value 'Multi' at 'batchStrategy' failed to satisfy constraint: Member must satisfy enum value set: [MultiRecord, SingleRecord]",
        "Value 'ftp://x' at 'transformInput.dataSource.s3DataSource.s3Uri' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$",
        "Value 'Lines' at 'transformInput.splitType' failed to satisfy constraint: Member must satisfy enum value set: [None, Line, RecordIO, TFRecord]",
        "Value 'Lines' at 'transformOutput.assembleWith' failed to satisfy constraint: Member must satisfy enum value set: [None, Line]",
        expect.stringMatching(/^Value 'm5\.large' at 'transformResources\.instanceType' failed to satisfy constraint/),
        "Value '0' at 'transformResources.instanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1",
        expect.stringMatching(
          /^Value '\$\[1,.*' at 'dataProcessing\.inputFilter' failed to satisfy constraint: Member must have length less than or equal to 63$/,
        ),
        "Value 'Output' at 'dataProcessing.joinSource' failed to satisfy constraint: Member must satisfy enum value set: [Input, None]",
      ]);

      const missing = await rejection(
        sm.send(new CreateTransformJobCommand({ TransformJobName: 'no-members', ModelName: 'iris-model' } as never)),
      );
      expect(missing.message).toBe(
        "3 validation errors detected: Value null at 'transformInput' failed to satisfy constraint: Member must not be null; Value null at 'transformOutput' failed to satisfy constraint: Member must not be null; Value null at 'transformResources' failed to satisfy constraint: Member must not be null",
      );
      const long = await rejection(sm.send(new CreateTransformJobCommand(request('x'.repeat(64)))));
      expect(long.message).toMatch(
        /at 'transformJobName' failed to satisfy constraint: Member must have length less than or equal to 63/,
      );
    });

    it('refuses what the documentation rules out: payloads over 100 MB, augmented manifests', async () => {
      expect(
        (await rejection(sm.send(new CreateTransformJobCommand(request('big', { MaxPayloadInMB: 101 }))))).message,
      ).toBe('MaxPayloadInMB (101) cannot be greater than 100 MB.');
      const product = await rejection(
        sm.send(new CreateTransformJobCommand(request('product', { MaxPayloadInMB: 30, MaxConcurrentTransforms: 4 }))),
      );
      expect(product.message).toBe('MaxConcurrentTransforms * MaxPayloadInMB (4 * 30) cannot exceed 100 MB.');
      const augmented = request('augmented');
      augmented.TransformInput.DataSource!.S3DataSource!.S3DataType = 'AugmentedManifestFile' as never;
      expect((await rejection(sm.send(new CreateTransformJobCommand(augmented)))).message).toBe(
        'S3DataType AugmentedManifestFile is not supported for transform jobs; use S3Prefix or ManifestFile.',
      );
    });

    it('needs an existing model and a new name; Describe and Stop of an unknown job', async () => {
      const noModel = await rejection(sm.send(new CreateTransformJobCommand(request('ghost', { ModelName: 'ghost' }))));
      expect(noModel.name).toBe('ValidationException');
      expect(noModel.message).toBe(`Could not find model "arn:aws:sagemaker:us-east-1:${ACCOUNT}:model/ghost".`);

      await run('once');
      const again = await rejection(sm.send(new CreateTransformJobCommand(request('once'))));
      expect(again.name).toBe('ResourceInUse');
      expect(again.message).toBe(
        `Transform job names must be unique within an AWS account and region, and a transform job with this name already exists (arn:aws:sagemaker:us-east-1:${ACCOUNT}:transform-job/once)`,
      );
      for (const call of [
        sm.send(new DescribeTransformJobCommand({ TransformJobName: 'never' })),
        sm.send(new StopTransformJobCommand({ TransformJobName: 'never' })),
      ]) {
        const error = await rejection(call);
        expect(error.name).toBe('ValidationException');
        expect(error.message).toBe('Requested resource not found.');
      }
      const stopDone = await rejection(sm.send(new StopTransformJobCommand({ TransformJobName: 'once' })));
      expect(stopDone.message).toBe('The request was rejected because the transform job is in status Completed');
    });
  });

  it('transforms every object under the prefix: the same answers as InvokeEndpoint, row for row', async () => {
    const { final, observed } = await run('iris-features', { Tags: [{ Key: 'run', Value: 'r1' }] });
    expect(observed).toEqual(['InProgress', 'Completed']);
    expect(final).toMatchObject({
      TransformJobName: 'iris-features',
      TransformJobArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:transform-job/iris-features`,
      TransformJobStatus: 'Completed',
      ModelName: 'iris-model',
      BatchStrategy: 'MultiRecord',
      TransformOutput: { S3OutputPath: `s3://${BUCKET}/out/iris-features`, AssembleWith: 'Line' },
      TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
    });
    expect(final.FailureReason).toBeUndefined();
    expect(final.TransformStartTime).toBeInstanceOf(Date);
    expect(final.TransformEndTime!.getTime()).toBeGreaterThanOrEqual(final.TransformStartTime!.getTime());

    expect((await keysUnder('out/iris-features/')).sort()).toEqual([
      'out/iris-features/part-0.csv.out',
      'out/iris-features/sub/part-1.csv.out',
    ]);
    const output =
      (await get('out/iris-features/part-0.csv.out')) + (await get('out/iris-features/sub/part-1.csv.out'));
    expect(output).toBe(`${endpointAnswers.slice(0, 20).join('\n')}\n${endpointAnswers.slice(20).join('\n')}\n`);

    // one record per request: the same answers
    await run('iris-single', { BatchStrategy: 'SingleRecord' });
    expect(await get('out/iris-single/part-0.csv.out')).toBe(`${endpointAnswers.slice(0, 20).join('\n')}\n`);
    expect(local.sageMaker.transformJobLog('iris-single')[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}:\[sagemaker logs\]: MaxConcurrentTransforms=1, MaxPayloadInMB=6, BatchStrategy=SINGLE_RECORD$/,
    );

    const tags = await sm.send(new ListTagsCommand({ ResourceArn: final.TransformJobArn }));
    expect(tags.Tags).toEqual([{ Key: 'run', Value: 'r1' }]);
    await sm.send(new AddTagsCommand({ ResourceArn: final.TransformJobArn, Tags: [{ Key: 'more', Value: 'x' }] }));

    const listed = await sm.send(new ListTransformJobsCommand({ NameContains: 'iris-', StatusEquals: 'Completed' }));
    expect(listed.TransformJobSummaries!.map((job) => job.TransformJobName)).toEqual(['iris-single', 'iris-features']);
    expect(listed.TransformJobSummaries![1]).toMatchObject({
      TransformJobArn: final.TransformJobArn,
      TransformJobStatus: 'Completed',
    });
    expect(listed.TransformJobSummaries![1].CreationTime).toBeInstanceOf(Date);
  });

  it('without AssembleWith Line the answers are concatenated as they come; application/json answers per batch', async () => {
    await run('iris-json', {
      TransformOutput: {
        S3OutputPath: `s3://${BUCKET}/out/iris-json`,
        Accept: 'application/json',
        AssembleWith: 'None',
      },
    });
    const body = await get('out/iris-json/part-0.csv.out');
    const predictions = endpointAnswers.slice(0, 20).join(',');
    expect(body).toBe(`{"predictions":[${predictions}]}`);
  });

  describe('DataProcessing', () => {
    it('InputFilter $[1:] keeps the label from the model; JoinSource Input appends the answer to the CSV row', async () => {
      await run('join-all', {
        ...labelledInput(),
        DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input' },
      });
      const lines = (await get('out/join-all/test.csv.out')).trimEnd().split('\n');
      expect(lines).toEqual(labelled.map((row, i) => `${row},"${endpointAnswers[i].replaceAll('"', '""')}"`));

      await run('join-label', {
        ...labelledInput(),
        DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,-1]' },
      });
      const pairs = (await get('out/join-label/test.csv.out')).trimEnd().split('\n');
      expect(pairs[0]).toBe(
        `${labelled[0].split(',')[0]},"{""predicted_label"":${JSON.parse(endpointAnswers[0]).predicted_label.toFixed(1)}}"`,
      );
      expect(pairs).toEqual(
        labelled.map((row, i) => `${row.split(',')[0]},"${endpointAnswers[i].replaceAll('"', '""')}"`),
      );
    });

    it('application/json answers are taken apart per record for the join', async () => {
      await run('join-json-accept', {
        ...labelledInput(),
        TransformOutput: {
          S3OutputPath: `s3://${BUCKET}/out/join-json-accept`,
          Accept: 'application/json',
          AssembleWith: 'Line',
        },
        DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[-1]' },
      });
      const cells = (await get('out/join-json-accept/test.csv.out')).trimEnd().split('\n');
      expect(cells).toEqual(endpointAnswers.map((answer) => `"${answer.replaceAll('"', '""')}"`));
    });

    it('JSON Lines input: the answer goes under SageMakerOutput; OutputFilter picks attributes', async () => {
      const jsonl = features.slice(0, 5).map((row, id) => JSON.stringify({ id, features: row.split(',').map(Number) }));
      await put('jsonl/rows.jsonl', `${jsonl.join('\n')}\n`);
      await run('join-jsonl', {
        TransformInput: {
          DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/jsonl/` } },
          ContentType: 'application/jsonlines',
          SplitType: 'Line',
        },
        DataProcessing: { JoinSource: 'Input', OutputFilter: "$['id','SageMakerOutput']" },
      });
      const lines = (await get('out/join-jsonl/rows.jsonl.out')).trimEnd().split('\n');
      expect(lines).toEqual(
        endpointAnswers.slice(0, 5).map((answer, id) => `{"id":${id},"SageMakerOutput":${answer}}`),
      );
    });

    it('fails the job for a filter SageMaker refuses, logging why', async () => {
      const twoRanges = await run('two-ranges', {
        ...labelledInput(),
        DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0:2,3:]' },
      });
      expect(twoRanges.final).toMatchObject({
        TransformJobStatus: 'Failed',
        FailureReason: 'ClientError: See job logs for more information',
      });
      expect(local.sageMaker.transformJobLog('two-ranges').at(-1)).toMatch(
        /\[sagemaker logs\]: Invalid JsonPath: \$\[0:2,3:\]: only single range filters of format \(eg: \[1:5\]\) are supported\. Format \[0:2,3:\] is not supported$/,
      );

      const outside = await run('outside', {
        ...labelledInput(),
        DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,9]' },
      });
      expect(outside.final.FailureReason).toBe('ClientError: See job logs for more information');
      expect(local.sageMaker.transformJobLog('outside').join('\n')).toContain(
        `${BUCKET}/labelled/test.csv: ClientError: $[0,9] cannot be applied to the joined record: index 9 is outside its 6 elements`,
      );
      expect(await keysUnder('out/outside/')).toEqual([]);
    });

    it('k-NN has no text/csv answer: Accept text/csv fails the job like the container’s 4xx', async () => {
      const { final } = await run('csv-accept', {
        TransformOutput: { S3OutputPath: `s3://${BUCKET}/out/csv-accept`, Accept: 'text/csv', AssembleWith: 'Line' },
      });
      expect(final.FailureReason).toBe('ClientError: See job logs for more information');
      const log = local.sageMaker.transformJobLog('csv-accept');
      expect(log).toContainEqual(
        expect.stringMatching(/\[sagemaker logs\]: transform-data\/features\/part-0\.csv: ClientError: 400$/),
      );
      expect(log).toContainEqual(expect.stringMatching(/: Accept "text\/csv" is not supported/));
    });
  });

  it('a record larger than MaxPayloadInMB fails its object: "Too much data for max payload size"', async () => {
    await put('huge/one.csv', `${'1,'.repeat(600_000)}1\n`);
    const { final } = await run('huge', {
      MaxPayloadInMB: 1,
      TransformInput: {
        ...request('x').TransformInput,
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/huge/` } },
      },
    });
    expect(final.FailureReason).toBe('ClientError: See job logs for more information');
    expect(local.sageMaker.transformJobLog('huge').join('\n')).toContain(
      'ClientError: Too much data for max payload size',
    );
  });

  it('streams a large input in many mini-batches and writes a multipart output', async () => {
    const rows = 80_000;
    const lines: string[] = [];
    for (let i = 0; i < rows; i++) lines.push(features[i % features.length]);
    await put('large/rows.csv', `${lines.join('\n')}\n`);
    const { final } = await run('large', {
      MaxPayloadInMB: 1,
      TransformInput: {
        ...request('x').TransformInput,
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/large/` } },
      },
      TransformOutput: {
        S3OutputPath: `s3://${BUCKET}/out/large`,
        Accept: 'application/jsonlines; verbose=true',
        AssembleWith: 'Line',
      },
    });
    expect(final.TransformJobStatus).toBe('Completed');
    const verbose = await runtime.send(
      new InvokeEndpointCommand({
        EndpointName: 'iris',
        Body: Buffer.from(features.join('\n')),
        ContentType: 'text/csv',
        Accept: 'application/jsonlines; verbose=true',
      }),
    );
    const expected = Buffer.from(verbose.Body).toString('utf8').split('\n');
    const output = await get('out/large/rows.csv.out');
    expect(output.length).toBeGreaterThan(8 * 1024 * 1024); // more than one 8 MiB part
    const answers = output.split('\n');
    expect(answers).toHaveLength(rows + 1);
    expect(answers.at(-1)).toBe('');
    for (let i = 0; i < rows; i += 997) expect(answers[i]).toBe(expected[i % features.length]);
  });

  it('stops mid-run: Stopping → Stopped, and no output is stored', async () => {
    local.sageMaker.faults.slowModel(100);
    try {
      await sm.send(new CreateTransformJobCommand(request('stop-me', { BatchStrategy: 'SingleRecord' })));
      await pollUntil(
        async () => local.sageMaker.transformJobLog('stop-me'),
        (log) => String(log.length),
        (log) => log.some((line) => line.endsWith('Started reading s3://transform-data/features/part-0.csv')),
      );
      await sm.send(new StopTransformJobCommand({ TransformJobName: 'stop-me' }));
      expect((await describeJob('stop-me')).TransformJobStatus).toBe('Stopping');
      const { final, observed } = await pollUntil<DescribeTransformJobCommandOutput>(
        () => describeJob('stop-me'),
        (job) => job.TransformJobStatus!,
        (job) => TERMINAL.includes(job.TransformJobStatus!),
      );
      // Stopping was seen right after the call; a slow poll may see only the end of it.
      expect(observed.at(-1)).toBe('Stopped');
      expect(observed.every((status) => status === 'Stopping' || status === 'Stopped')).toBe(true);
      expect(final.FailureReason).toBeUndefined();
      expect(final.TransformEndTime).toBeInstanceOf(Date);
    } finally {
      local.sageMaker.faults.clear();
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // the batch in flight comes back: nothing more happens
    expect((await describeJob('stop-me')).TransformJobStatus).toBe('Stopped');
    expect(await keysUnder('out/stop-me/')).toEqual([]);
    expect(local.sageMaker.transformJobLog('stop-me').some((line) => line.includes('Transformed'))).toBe(false);
  });

  it('fails the next job on demand (failNextTransformJobs)', async () => {
    local.sageMaker.faults.failNextTransformJobs('AlgorithmError: injected');
    expect((await run('injected')).final.FailureReason).toBe('AlgorithmError: injected');
    expect((await run('after-injected')).final.TransformJobStatus).toBe('Completed');
  });
});
