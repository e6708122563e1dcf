import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  DescribeTrainingJobCommand,
  ListEndpointsCommand,
  type SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { clusteredCsv, knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { startSageMaker, useEmulators, withEmulators } from '../support/emulators';

const BUCKET = 'endpoint-data';
const ACCOUNT = '444455556666';
const ARTIFACT = `s3://${BUCKET}/models/knn-serve/output/model.tar.gz`;
const CENTRE_QUERIES = '0,0,0,0\n10,10,10,10\n20,0,20,0\n';

describe('local SageMaker endpoints and runtime', () => {
  const local = useEmulators(() =>
    startSageMaker({
      buckets: [BUCKET],
      accountId: ACCOUNT,
      timing: { trainingStartDelayMs: 20, endpointCreateDelayMs: 150, endpointDeleteDelayMs: 40 },
    }),
  );
  let sm: SageMakerClient;
  let runtime: SageMakerRuntimeClient;
  let s3: S3Client;

  const describeEndpoint = (name: string) => sm.send(new DescribeEndpointCommand({ EndpointName: name }));
  const waitForEndpoint = (name: string) =>
    pollUntil<DescribeEndpointCommandOutput>(
      () => describeEndpoint(name),
      (endpoint) => endpoint.EndpointStatus!,
      (endpoint) => endpoint.EndpointStatus === 'InService' || endpoint.EndpointStatus === 'Failed',
    );
  const deploy = async (name: string, modelDataUrl = ARTIFACT) => {
    await sm.send(
      new CreateModelCommand({
        ModelName: `${name}-model`,
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/knn-sagemaker',
        PrimaryContainer: { Image: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1', ModelDataUrl: modelDataUrl },
      }),
    );
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: `${name}-config`,
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: `${name}-model`,
            InitialInstanceCount: 1,
            InstanceType: 'ml.m5.large',
          },
        ],
      }),
    );
    return sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }));
  };
  const invoke = (endpointName: string, body: string | Uint8Array, contentType = 'text/csv', accept?: string) =>
    runtime.send(
      new InvokeEndpointCommand({
        EndpointName: endpointName,
        Body: typeof body === 'string' ? Buffer.from(body) : body,
        ContentType: contentType,
        Accept: accept,
      }),
    );
  const rejection = async (promise: Promise<unknown>): Promise<Error & Record<string, unknown>> => {
    try {
      await promise;
    } catch (error) {
      return error as Error & Record<string, unknown>;
    }
    throw new Error('expected the call to fail');
  };

  beforeAll(async () => {
    sm = local.sageMakerClient({ maxAttempts: 1 });
    runtime = local.runtimeClient({ maxAttempts: 1 });
    s3 = local.s3Client();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/train/train.csv', Body: clusteredCsv(10) }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'corrupt/model.tar.gz', Body: 'this is not a tarball' }));
    await sm.send(
      new CreateTrainingJobCommand(
        knnTrainingJobRequest({
          name: 'knn-serve',
          bucket: BUCKET,
          trainPrefix: 'data/train/',
          outputPath: `s3://${BUCKET}/models`,
        }),
      ),
    );
    const job = await pollUntil(
      () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'knn-serve' })),
      (j) => j.TrainingJobStatus!,
      (j) => j.TrainingJobStatus !== 'InProgress',
    );
    expect(job.final.ModelArtifacts?.S3ModelArtifacts).toBe(ARTIFACT);
  });

  describe('an InService endpoint', () => {
    beforeAll(async () => {
      const { EndpointArn } = await deploy('Knn-Endpoint');
      expect(EndpointArn).toBe(`arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/knn-endpoint`);
      const { final, observed } = await waitForEndpoint('Knn-Endpoint');
      expect(observed).toEqual(['Creating', 'InService']);
      expect(final).toMatchObject({
        EndpointName: 'Knn-Endpoint',
        EndpointArn,
        EndpointConfigName: 'Knn-Endpoint-config',
        EndpointStatus: 'InService',
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            CurrentWeight: 1,
            DesiredWeight: 1,
            CurrentInstanceCount: 1,
            DesiredInstanceCount: 1,
          },
        ],
      });
      expect(final.CreationTime).toBeInstanceOf(Date);
      expect(final.LastModifiedTime!.getTime()).toBeGreaterThanOrEqual(final.CreationTime!.getTime());
      expect(final.FailureReason).toBeUndefined();
    });

    it('answers text/csv with application/json predictions and names the variant', async () => {
      const response = await invoke('Knn-Endpoint', CENTRE_QUERIES);
      expect(response.ContentType).toBe('application/json');
      expect(response.InvokedProductionVariant).toBe('AllTraffic');
      expect(JSON.parse(Buffer.from(response.Body).toString('utf8'))).toEqual({
        predictions: [{ predicted_label: 0 }, { predicted_label: 1 }, { predicted_label: 2 }],
      });
      expect(Buffer.from(response.Body).toString('utf8')).toContain('"predicted_label":0.0');
    });

    it('accepts application/json in both instance forms', async () => {
      const body = JSON.stringify({
        instances: [{ features: [20, 0, 20, 0] }, { data: { features: { values: [10, 10, 10, 10] } } }],
      });
      const response = await invoke('Knn-Endpoint', body, 'application/json', 'application/json');
      expect(JSON.parse(Buffer.from(response.Body).toString('utf8')).predictions).toEqual([
        { predicted_label: 2 },
        { predicted_label: 1 },
      ]);
    });

    it('accepts application/jsonlines and answers application/jsonlines', async () => {
      const body = '{"features":[0,0,0,0]}\n{"features":[20,0,20,0]}\n';
      const response = await invoke('Knn-Endpoint', body, 'application/jsonlines', 'application/jsonlines');
      expect(response.ContentType).toBe('application/jsonlines');
      const lines = Buffer.from(response.Body)
        .toString('utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines).toEqual([{ predicted_label: 0 }, { predicted_label: 2 }]);
    });

    it('adds neighbour labels and distances with verbose=true', async () => {
      const response = await invoke('Knn-Endpoint', '10,10,10,10', 'text/csv', 'application/json; verbose=true');
      const [prediction] = JSON.parse(Buffer.from(response.Body).toString('utf8')).predictions;
      expect(prediction.predicted_label).toBe(1);
      expect(prediction.labels).toEqual([1, 1, 1]);
      expect(prediction.distances).toHaveLength(3);
      expect([...prediction.distances].sort((a: number, b: number) => a - b)).toEqual(prediction.distances);
    });

    it('answers a payload the model rejects with ModelError (424, OriginalStatusCode 400)', async () => {
      const error = await rejection(invoke('Knn-Endpoint', '1,2,3\n'));
      expect(error.name).toBe('ModelError');
      expect(error.$metadata).toMatchObject({ httpStatusCode: 424 });
      expect(error.OriginalStatusCode).toBe(400);
      expect(error.OriginalMessage).toEqual(expect.stringContaining('expected 4'));
      expect(error.message).toMatch(/^Received client error \(400\) from AllTraffic with message "/);
      expect(error.LogStreamArn).toBe(
        `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/sagemaker/Endpoints/Knn-Endpoint`,
      );

      const unsupported = await rejection(invoke('Knn-Endpoint', CENTRE_QUERIES, 'application/x-recordio-protobuf'));
      expect(unsupported.name).toBe('ModelError');
      const badAccept = await rejection(invoke('Knn-Endpoint', CENTRE_QUERIES, 'text/csv', 'text/html'));
      expect(badAccept.name).toBe('ModelError');
    });

    it('answers an unknown endpoint or a different case with ValidationError', async () => {
      const unknown = await rejection(invoke('no-such-endpoint', CENTRE_QUERIES));
      expect(unknown.name).toBe('ValidationError');
      expect(unknown.$metadata).toMatchObject({ httpStatusCode: 400 });
      expect(unknown.message).toBe(`Endpoint no-such-endpoint of account ${ACCOUNT} not found.`);
      const wrongCase = await rejection(invoke('knn-endpoint', CENTRE_QUERIES));
      expect(wrongCase.name).toBe('ValidationError');
      // the control plane finds it whatever the case
      expect((await describeEndpoint('KNN-ENDPOINT')).EndpointName).toBe('Knn-Endpoint');
    });

    it('answers a body over 6 MiB with ValidationError', async () => {
      const error = await rejection(invoke('Knn-Endpoint', Buffer.alloc(6_291_457, 0x31)));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toContain('6291456');
      expect((await invoke('Knn-Endpoint', CENTRE_QUERIES)).InvokedProductionVariant).toBe('AllTraffic');
    });

    it('keeps serving after its model and config are deleted', async () => {
      await sm.send(new DeleteModelCommand({ ModelName: 'Knn-Endpoint-model' }));
      await sm.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'Knn-Endpoint-config' }));
      expect((await invoke('Knn-Endpoint', CENTRE_QUERIES)).InvokedProductionVariant).toBe('AllTraffic');
      expect((await describeEndpoint('Knn-Endpoint')).EndpointConfigName).toBe('Knn-Endpoint-config');
    });

    it('lists endpoints by status', async () => {
      const { Endpoints } = await sm.send(new ListEndpointsCommand({ StatusEquals: 'InService' }));
      expect(Endpoints!.map((e) => e.EndpointName)).toContain('Knn-Endpoint');
      expect(Endpoints![0].CreationTime).toBeInstanceOf(Date);
    });
  });

  it('refuses invocations while Creating', async () => {
    await deploy('creating-endpoint');
    const error = await rejection(invoke('creating-endpoint', CENTRE_QUERIES));
    expect(error).toMatchObject({
      name: 'ValidationError',
      message: `Endpoint creating-endpoint of account ${ACCOUNT} not found.`,
    });
    await waitForEndpoint('creating-endpoint');
  });

  it('deletes an endpoint: Deleting → gone', async () => {
    await deploy('short-lived');
    await waitForEndpoint('short-lived');
    await sm.send(new DeleteEndpointCommand({ EndpointName: 'short-lived' }));
    expect((await describeEndpoint('short-lived')).EndpointStatus).toBe('Deleting');
    expect((await rejection(invoke('short-lived', CENTRE_QUERIES))).name).toBe('ValidationError');
    const gone = await pollUntil(
      () =>
        describeEndpoint('short-lived').then(
          () => 'present',
          (error: Error) => error.name,
        ),
      (state) => state,
      (state) => state !== 'present',
    );
    expect(gone.final).toBe('ValidationException');
    expect(local.sageMaker.listResources().endpoints).not.toContain('short-lived');
  });

  it.each([
    [
      'a missing artifact',
      `s3://${BUCKET}/models/never-trained/output/model.tar.gz`,
      /^Failed to download model data for container "container_1" from URL: "s3:\/\/endpoint-data\/models\/never-trained/,
    ],
    [
      'a corrupt artifact',
      `s3://${BUCKET}/corrupt/model.tar.gz`,
      /^Failed to extract model data archive from URL "s3:\/\/endpoint-data\/corrupt\/model.tar.gz"/,
    ],
  ])(
    'ends Failed with a FailureReason for %s, and a Failed endpoint can be deleted',
    async (_label, modelDataUrl, reason) => {
      const name = `broken-${Math.random().toString(36).slice(2, 8)}`;
      await deploy(name, modelDataUrl);
      const { final, observed } = await waitForEndpoint(name);
      expect(observed).toEqual(['Creating', 'Failed']);
      expect(final.FailureReason).toMatch(reason);
      expect((await rejection(invoke(name, CENTRE_QUERIES))).name).toBe('ValidationError');
      await sm.send(new DeleteEndpointCommand({ EndpointName: name }));
    },
  );
});

describe('UpdateEndpoint', () => {
  test('Updating → InService on the new config; a failed update rolls back to the old config with a FailureReason', async () => {
    const timing = { trainingStartDelayMs: 20, endpointCreateDelayMs: 50 };
    await withEmulators(startSageMaker({ buckets: ['b'], timing }), async (local) => {
      const s3c = local.s3Client();
      const client = local.sageMakerClient();
      const until = (probe: () => Promise<string | undefined>, done: string) =>
        pollUntil(
          probe,
          (s) => String(s),
          (s) => s === done,
        );
      await s3c.send(new PutObjectCommand({ Bucket: 'b', Key: 'train/train.csv', Body: clusteredCsv(20) }));
      await client.send(
        new CreateTrainingJobCommand(
          knnTrainingJobRequest({ name: 'job', bucket: 'b', trainPrefix: 'train/', outputPath: 's3://b/out' }),
        ),
      );
      await until(
        async () => (await client.send(new DescribeTrainingJobCommand({ TrainingJobName: 'job' }))).TrainingJobStatus,
        'Completed',
      );
      const modelData = 's3://b/out/job/output/model.tar.gz';
      for (const [model, url] of [
        ['m1', modelData],
        ['m2', modelData],
        ['broken', 's3://b/missing.tar.gz'],
      ]) {
        await client.send(
          new CreateModelCommand({
            ModelName: model,
            PrimaryContainer: { Image: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1', ModelDataUrl: url },
            ExecutionRoleArn: 'arn:aws:iam::123456789012:role/r',
          }),
        );
        await client.send(
          new CreateEndpointConfigCommand({
            EndpointConfigName: `${model}-config`,
            ProductionVariants: [
              { VariantName: 'AllTraffic', ModelName: model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' },
            ],
          }),
        );
      }
      await client.send(new CreateEndpointCommand({ EndpointName: 'stable', EndpointConfigName: 'm1-config' }));
      const status = async () => client.send(new DescribeEndpointCommand({ EndpointName: 'stable' }));
      const inService = () => until(async () => (await status()).EndpointStatus, 'InService');
      await inService();

      await client.send(new UpdateEndpointCommand({ EndpointName: 'stable', EndpointConfigName: 'm2-config' }));
      expect((await status()).EndpointStatus).toBe('Updating');
      await expect(client.send(new DeleteEndpointCommand({ EndpointName: 'stable' }))).rejects.toMatchObject({
        name: 'ValidationException',
      });
      await inService();
      expect(await status()).toMatchObject({ EndpointConfigName: 'm2-config' });

      await client.send(new UpdateEndpointCommand({ EndpointName: 'stable', EndpointConfigName: 'broken-config' }));
      await inService();
      const rolledBack = await status();
      expect(rolledBack.EndpointConfigName).toBe('m2-config');
      expect(rolledBack.FailureReason).toMatch(/Failed to download model data/);

      local.sageMaker.faults.failNextEndpointUpdates('Injected: health check failed');
      await client.send(new UpdateEndpointCommand({ EndpointName: 'stable', EndpointConfigName: 'm1-config' }));
      await inService();
      expect(await status()).toMatchObject({
        EndpointConfigName: 'm2-config',
        FailureReason: 'Injected: health check failed',
      });
    });
  });
});
