import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  ListModelsCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { clusteredCsv, knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { startSageMaker, useEmulators } from '../support/emulators';

const BUCKET = 'fault-data';

describe('local SageMaker fault injection', () => {
  const local = useEmulators(() =>
    startSageMaker({ buckets: [BUCKET], timing: { trainingStartDelayMs: 10, endpointCreateDelayMs: 20 } }),
  );
  let retrying: SageMakerClient;
  let single: SageMakerClient;
  let runtime: SageMakerRuntimeClient;

  const createModel = (
    client: SageMakerClient,
    name: string,
    modelDataUrl = `s3://${BUCKET}/models/knn-faults/output/model.tar.gz`,
  ) =>
    client.send(
      new CreateModelCommand({
        ModelName: name,
        PrimaryContainer: { Image: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1', ModelDataUrl: modelDataUrl },
      }),
    );
  const deployEndpoint = async (name: string) => {
    await createModel(single, `${name}-model`);
    await single.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: `${name}-config`,
        ProductionVariants: [
          { VariantName: 'primary', ModelName: `${name}-model`, InitialInstanceCount: 1, InstanceType: 'ml.t2.medium' },
        ],
      }),
    );
    await single.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }));
    return pollUntil(
      () => single.send(new DescribeEndpointCommand({ EndpointName: name })),
      (endpoint) => endpoint.EndpointStatus!,
      (endpoint) => endpoint.EndpointStatus === 'InService' || endpoint.EndpointStatus === 'Failed',
    );
  };

  beforeAll(async () => {
    // The default retry strategy retries throttling; one client with and one without retries
    retrying = local.sageMakerClient({ maxAttempts: 3 });
    single = local.sageMakerClient({ maxAttempts: 1 });
    runtime = local.runtimeClient({ maxAttempts: 1 });
    await local
      .s3Client()
      .send(new PutObjectCommand({ Bucket: BUCKET, Key: 'train/train.csv', Body: clusteredCsv(5) }));
    await single.send(
      new CreateTrainingJobCommand(
        knnTrainingJobRequest({
          name: 'knn-faults',
          bucket: BUCKET,
          trainPrefix: 'train/',
          outputPath: `s3://${BUCKET}/models`,
        }),
      ),
    );
    await pollUntil(
      () => single.send(new DescribeTrainingJobCommand({ TrainingJobName: 'knn-faults' })),
      (job) => job.TrainingJobStatus!,
      (job) => job.TrainingJobStatus === 'Completed',
    );
  });

  afterEach(() => local.sageMaker.faults.clear());

  it('surfaces an injected ThrottlingException by name when the client does not retry', async () => {
    local.sageMaker.faults.inject({ operation: 'CreateModel', errorName: 'ThrottlingException' });
    await expect(createModel(single, 'throttled-model')).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    // the fault was used up: the same call now succeeds
    await expect(createModel(single, 'throttled-model')).resolves.toMatchObject({
      ModelArn: expect.stringContaining('model/throttled-model'),
    });
  });

  it('lets the SDK retry a transient fault', async () => {
    local.sageMaker.faults.inject({ operation: 'DescribeModel', errorName: 'ThrottlingException', times: 1 });
    const described = await retrying.send(new DescribeModelCommand({ ModelName: 'throttled-model' }));
    expect(described.ModelName).toBe('throttled-model');
    expect(described.$metadata.attempts).toBe(2);
  });

  it('answers with the given status code and only for matching requests', async () => {
    local.sageMaker.faults.inject({
      operation: 'CreateModel',
      errorName: 'InternalFailure',
      statusCode: 500,
      message: 'boom',
      match: (request) => request.ModelName === 'unlucky-model',
    });
    await expect(createModel(single, 'lucky-model')).resolves.toBeDefined();
    await expect(createModel(single, 'unlucky-model')).rejects.toMatchObject({
      name: 'InternalFailure',
      message: 'boom',
      $metadata: { httpStatusCode: 500 },
    });
  });

  it('delays an operation', async () => {
    // A delay far above a local call's latency, so a loaded machine cannot blur the two cases.
    local.sageMaker.faults.delay('ListModels', 1500);
    const started = Date.now();
    await single.send(new ListModelsCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1490);
    local.sageMaker.faults.clear();
    const again = Date.now();
    await single.send(new ListModelsCommand({}));
    expect(Date.now() - again).toBeLessThan(1490);
  });

  it('fails the next endpoint on demand, then deploys normally', async () => {
    local.sageMaker.faults.failNextEndpoints('Insufficient capacity for ml.t2.medium (injected)');
    const failed = await deployEndpoint('doomed-endpoint');
    expect(failed.observed).toEqual(['Creating', 'Failed']);
    expect(failed.final.FailureReason).toBe('Insufficient capacity for ml.t2.medium (injected)');
    const healthy = await deployEndpoint('healthy-endpoint');
    expect(healthy.final.EndpointStatus).toBe('InService');
  });

  it('injects runtime faults into InvokeEndpoint', async () => {
    const invoke = () =>
      runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'healthy-endpoint',
          Body: Buffer.from('0,0,0,0'),
          ContentType: 'text/csv',
        }),
      );
    local.sageMaker.faults.inject({
      operation: 'InvokeEndpoint',
      errorName: 'ServiceUnavailable',
      statusCode: 503,
      match: (request) => request.EndpointName === 'healthy-endpoint',
    });
    local.sageMaker.faults.inject({
      operation: 'InvokeEndpoint',
      errorName: 'ModelNotReadyException',
      statusCode: 429,
    });
    await expect(invoke()).rejects.toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    await expect(invoke()).rejects.toMatchObject({
      name: 'ModelNotReadyException',
      $metadata: { httpStatusCode: 429 },
    });
    const response = await invoke();
    expect(response.InvokedProductionVariant).toBe('primary');
    expect(JSON.parse(Buffer.from(response.Body).toString('utf8'))).toEqual({ predictions: [{ predicted_label: 0 }] });
  });

  it('clear() drops pending faults', async () => {
    local.sageMaker.faults.inject({ operation: 'ListModels', errorName: 'ThrottlingException', times: Infinity });
    local.sageMaker.faults.failNextTrainingJobs('ClientError: never used');
    local.sageMaker.faults.clear();
    await expect(single.send(new ListModelsCommand({}))).resolves.toBeDefined();
  });
});
