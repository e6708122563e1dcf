import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  DeleteEndpointCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
  ListTagsCommand,
  ListTrainingJobsCommand,
  type SageMakerClient,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { knnTrainingJobRequest } from '../../local/sagemaker/testkit';
import { startSageMaker, useEmulators } from '../support/emulators';

const BUCKET = 'control-plane';
const ACCOUNT = '111122223333';
const ARN_PREFIX = `arn:aws:sagemaker:us-east-1:${ACCOUNT}`;
const MODEL_DATA = `s3://${BUCKET}/output/job/output/model.tar.gz`;

describe('local SageMaker control plane', () => {
  const local = useEmulators(() => startSageMaker({ buckets: [BUCKET], accountId: ACCOUNT, region: 'us-east-1' }));
  let client: SageMakerClient;

  beforeAll(() => {
    client = local.sageMakerClient({ maxAttempts: 1 });
  });

  const rejection = async (promise: Promise<unknown>): Promise<Error> => {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected the call to fail');
  };

  const createModel = (name: string) =>
    client.send(
      new CreateModelCommand({
        ModelName: name,
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/knn-sagemaker',
        PrimaryContainer: { Image: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1', ModelDataUrl: MODEL_DATA },
        Tags: [{ Key: 'project', Value: 'knn' }],
      }),
    );

  const variant = (modelName: string) => ({
    VariantName: 'AllTraffic',
    ModelName: modelName,
    InitialInstanceCount: 1,
    InstanceType: 'ml.m5.large' as const,
  });

  it('listens on 127.0.0.1 with a random port', () => {
    expect(local.sageMaker.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  describe('models', () => {
    it('creates, describes, lists and deletes a model', async () => {
      const { ModelArn } = await createModel('Knn-Model-1');
      expect(ModelArn).toBe(`${ARN_PREFIX}:model/knn-model-1`);

      const described = await client.send(new DescribeModelCommand({ ModelName: 'Knn-Model-1' }));
      expect(described).toMatchObject({
        ModelName: 'Knn-Model-1',
        ModelArn,
        PrimaryContainer: { ModelDataUrl: MODEL_DATA },
        EnableNetworkIsolation: false,
      });
      expect(described.CreationTime).toBeInstanceOf(Date);
      expect(Math.abs(described.CreationTime!.getTime() - Date.now())).toBeLessThan(60_000);

      const listed = await client.send(new ListModelsCommand({ NameContains: 'knn-model' }));
      expect(listed.Models!.map((m) => m.ModelName)).toContain('Knn-Model-1');

      await client.send(new DeleteModelCommand({ ModelName: 'Knn-Model-1' }));
      expect(local.sageMaker.listResources().models).not.toContain('Knn-Model-1');
    });

    it('answers missing, duplicate and malformed models with ValidationException', async () => {
      const missing = await rejection(client.send(new DescribeModelCommand({ ModelName: 'no-such-model' })));
      expect(missing.name).toBe('ValidationException');
      expect(missing.message).toBe(`Could not find model "${ARN_PREFIX}:model/no-such-model".`);
      expect(await rejection(client.send(new DeleteModelCommand({ ModelName: 'no-such-model' })))).toMatchObject({
        name: 'ValidationException',
      });

      await createModel('dup-model');
      const duplicate = await rejection(createModel('DUP-model'));
      expect(duplicate.name).toBe('ValidationException');
      expect(duplicate.message).toBe(`Cannot create already existing model "${ARN_PREFIX}:model/dup-model".`);

      const badName = await rejection(createModel('bad_name'));
      expect(badName.name).toBe('ValidationException');
      expect(badName.message).toBe(
        "1 validation error detected: Value 'bad_name' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?",
      );
    });
  });

  describe('endpoint configs', () => {
    beforeAll(async () => {
      await createModel('config-model');
    });

    it('creates, describes, lists and deletes an endpoint config', async () => {
      const { EndpointConfigArn } = await client.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'config-a',
          ProductionVariants: [variant('config-model')],
        }),
      );
      expect(EndpointConfigArn).toBe(`${ARN_PREFIX}:endpoint-config/config-a`);
      const described = await client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'config-a' }));
      expect(described).toMatchObject({
        EndpointConfigName: 'config-a',
        EndpointConfigArn,
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: 'config-model',
            InitialInstanceCount: 1,
            InstanceType: 'ml.m5.large',
            InitialVariantWeight: 1,
          },
        ],
      });
      expect(described.CreationTime).toBeInstanceOf(Date);
      const listed = await client.send(new ListEndpointConfigsCommand({}));
      expect(listed.EndpointConfigs!.map((c) => c.EndpointConfigName)).toContain('config-a');
      await client.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'config-a' }));
      const gone = await rejection(client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'config-a' })));
      expect(gone).toMatchObject({
        name: 'ValidationException',
        message: `Could not find endpoint configuration "${ARN_PREFIX}:endpoint-config/config-a".`,
      });
    });

    it('rejects a config for a missing model, duplicates and bad instance types', async () => {
      const missingModel = await rejection(
        client.send(
          new CreateEndpointConfigCommand({
            EndpointConfigName: 'config-b',
            ProductionVariants: [variant('ghost-model')],
          }),
        ),
      );
      expect(missingModel).toMatchObject({
        name: 'ValidationException',
        message: `Could not find model "${ARN_PREFIX}:model/ghost-model".`,
      });

      await client.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'config-c',
          ProductionVariants: [variant('config-model')],
        }),
      );
      const duplicate = await rejection(
        client.send(
          new CreateEndpointConfigCommand({
            EndpointConfigName: 'config-c',
            ProductionVariants: [variant('config-model')],
          }),
        ),
      );
      expect(duplicate).toMatchObject({
        name: 'ValidationException',
        message: `Cannot create already existing endpoint configuration "${ARN_PREFIX}:endpoint-config/config-c".`,
      });

      const badInstance = await rejection(
        client.send(
          new CreateEndpointConfigCommand({
            EndpointConfigName: 'config-d',
            ProductionVariants: [{ ...variant('config-model'), InstanceType: 'm5.large' as never }],
          }),
        ),
      );
      expect(badInstance.name).toBe('ValidationException');
      expect(badInstance.message).toContain(
        "Value 'm5.large' at 'productionVariants.1.member.instanceType' failed to satisfy constraint",
      );

      const noVariants = await rejection(
        client.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'config-e', ProductionVariants: [] })),
      );
      expect(noVariants.message).toContain(
        "at 'productionVariants' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    });
  });

  describe('endpoints (control plane only)', () => {
    it('rejects endpoints with a missing config, missing endpoints and case-insensitive duplicates', async () => {
      const missingConfig = await rejection(
        client.send(new CreateEndpointCommand({ EndpointName: 'ep-x', EndpointConfigName: 'no-config' })),
      );
      expect(missingConfig).toMatchObject({
        name: 'ValidationException',
        message: `Could not find endpoint configuration "${ARN_PREFIX}:endpoint-config/no-config".`,
      });

      const missing = await rejection(client.send(new DescribeEndpointCommand({ EndpointName: 'no-endpoint' })));
      expect(missing).toMatchObject({
        name: 'ValidationException',
        message: `Could not find endpoint "${ARN_PREFIX}:endpoint/no-endpoint".`,
      });
      expect(await rejection(client.send(new DeleteEndpointCommand({ EndpointName: 'no-endpoint' })))).toMatchObject({
        name: 'ValidationException',
      });

      await createModel('ep-model');
      await client.send(
        new CreateEndpointConfigCommand({ EndpointConfigName: 'ep-config', ProductionVariants: [variant('ep-model')] }),
      );
      const { EndpointArn } = await client.send(
        new CreateEndpointCommand({ EndpointName: 'My-Endpoint', EndpointConfigName: 'ep-config' }),
      );
      expect(EndpointArn).toBe(`${ARN_PREFIX}:endpoint/my-endpoint`);
      const duplicate = await rejection(
        client.send(new CreateEndpointCommand({ EndpointName: 'my-ENDPOINT', EndpointConfigName: 'ep-config' })),
      );
      expect(duplicate).toMatchObject({
        name: 'ValidationException',
        message: `Cannot create already existing endpoint "${ARN_PREFIX}:endpoint/my-endpoint".`,
      });

      const creating = await client.send(new DescribeEndpointCommand({ EndpointName: 'My-Endpoint' }));
      expect(creating.EndpointStatus).toBe('Creating');
      const inProgress = await rejection(client.send(new DeleteEndpointCommand({ EndpointName: 'My-Endpoint' })));
      expect(inProgress).toMatchObject({
        name: 'ValidationException',
        message: `Cannot update in-progress endpoint "${EndpointArn}".`,
      });
    });
  });

  describe('training jobs (control plane only)', () => {
    const request = (name: string) => knnTrainingJobRequest({ name, bucket: BUCKET, trainPrefix: 'no-data/train/' });

    it('validates names, required members, hyperparameters and instance types', async () => {
      const badName = await rejection(client.send(new CreateTrainingJobCommand(request('bad_job.name'))));
      expect(badName.name).toBe('ValidationException');
      expect(badName.message).toBe(
        "1 validation error detected: Value 'bad_job.name' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
      );

      const tooLong = await rejection(client.send(new CreateTrainingJobCommand(request('a'.repeat(64)))));
      expect(tooLong.message).toMatch(
        /^2 validation errors detected: .*Member must have length less than or equal to 63; .*regular expression pattern/,
      );

      const { RoleArn: _role, ResourceConfig: _resources, ...missingMembers } = request('missing-members');
      const missing = await rejection(client.send(new CreateTrainingJobCommand(missingMembers as never)));
      expect(missing.name).toBe('ValidationException');
      expect(missing.message).toBe(
        "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
          "Value null at 'resourceConfig' failed to satisfy constraint: Member must not be null",
      );

      const tooManyHyperparameters = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, '1']));
      const many = await rejection(
        client.send(new CreateTrainingJobCommand({ ...request('many-hps'), HyperParameters: tooManyHyperparameters })),
      );
      expect(many.message).toContain(
        "at 'hyperParameters' failed to satisfy constraint: Member must have length less than or equal to 100",
      );

      const numeric = await rejection(
        client.send(new CreateTrainingJobCommand({ ...request('numeric-hps'), HyperParameters: { k: 10 as never } })),
      );
      expect(numeric.name).toBe('ValidationException');
      expect(numeric.message).toContain(
        "at 'hyperParameters' failed to satisfy constraint: Map value must satisfy constraint",
      );

      const instance = await rejection(
        client.send(
          new CreateTrainingJobCommand({
            ...request('bad-instance'),
            ResourceConfig: { InstanceType: 'm5.large' as never, InstanceCount: 1, VolumeSizeInGB: 5 },
          }),
        ),
      );
      expect(instance.message).toContain(
        "Value 'm5.large' at 'resourceConfig.instanceType' failed to satisfy constraint",
      );

      expect(local.sageMaker.listResources().trainingJobs).toEqual([]);
    });

    it('answers a reused training job name with ResourceInUse and unknown jobs with ValidationException', async () => {
      const { TrainingJobArn } = await client.send(
        new CreateTrainingJobCommand({ ...request('Job-Once'), Tags: [{ Key: 'team', Value: 'ml' }] }),
      );
      expect(TrainingJobArn).toBe(`${ARN_PREFIX}:training-job/job-once`);
      const reused = await rejection(client.send(new CreateTrainingJobCommand(request('job-ONCE'))));
      expect(reused.name).toBe('ResourceInUse');
      expect(reused.message).toBe(
        `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${TrainingJobArn})`,
      );

      const described = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: 'Job-Once' }));
      expect(described).toMatchObject({
        TrainingJobName: 'Job-Once',
        TrainingJobArn,
        TrainingJobStatus: 'InProgress',
        SecondaryStatus: 'Starting',
      });
      expect(described.HyperParameters).toEqual(request('x').HyperParameters);
      expect(described.CreationTime).toBeInstanceOf(Date);

      const listed = await client.send(new ListTrainingJobsCommand({ StatusEquals: 'InProgress' }));
      expect(listed.TrainingJobSummaries!.map((s) => s.TrainingJobName)).toContain('Job-Once');

      const tags = await client.send(new ListTagsCommand({ ResourceArn: TrainingJobArn }));
      expect(tags.Tags).toEqual([{ Key: 'team', Value: 'ml' }]);

      const missing = await rejection(
        client.send(new DescribeTrainingJobCommand({ TrainingJobName: 'never-created' })),
      );
      expect(missing).toMatchObject({ name: 'ValidationException', message: 'Requested resource not found.' });
      expect(
        await rejection(client.send(new StopTrainingJobCommand({ TrainingJobName: 'never-created' }))),
      ).toMatchObject({
        name: 'ValidationException',
        message: 'Requested resource not found.',
      });
    });
  });

  describe('tags and listing', () => {
    it('adds, merges and lists tags per ARN', async () => {
      const { ModelArn } = await createModel('tagged-model');
      await client.send(
        new AddTagsCommand({
          ResourceArn: ModelArn,
          Tags: [
            { Key: 'stage', Value: 'local' },
            { Key: 'project', Value: 'knn-2' },
          ],
        }),
      );
      const { Tags } = await client.send(new ListTagsCommand({ ResourceArn: ModelArn }));
      expect(Tags).toEqual([
        { Key: 'project', Value: 'knn-2' },
        { Key: 'stage', Value: 'local' },
      ]);
      const unknown = await rejection(client.send(new ListTagsCommand({ ResourceArn: `${ARN_PREFIX}:model/unknown` })));
      expect(unknown.name).toBe('ValidationException');
    });

    it('pages with MaxResults/NextToken and sorts by name', async () => {
      for (const name of ['page-c', 'page-a', 'page-b']) await createModel(name);
      const first = await client.send(
        new ListModelsCommand({ NameContains: 'page-', SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 2 }),
      );
      expect(first.Models!.map((m) => m.ModelName)).toEqual(['page-a', 'page-b']);
      expect(first.NextToken).toBeDefined();
      const second = await client.send(
        new ListModelsCommand({
          NameContains: 'page-',
          SortBy: 'Name',
          SortOrder: 'Ascending',
          MaxResults: 2,
          NextToken: first.NextToken,
        }),
      );
      expect(second.Models!.map((m) => m.ModelName)).toEqual(['page-c']);
      expect(second.NextToken).toBeUndefined();
    });
  });

  describe('wire protocol', () => {
    type WireBody = { __type?: string; CreationTime?: number; [field: string]: unknown };
    const json = async (response: Response): Promise<WireBody> => (await response.json()) as WireBody;
    const post = (target: string | undefined, body: string) =>
      fetch(`${local.sageMaker.endpoint}/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', ...(target ? { 'X-Amz-Target': target } : {}) },
        body,
      });

    it('answers an unknown operation with UnknownOperationException', async () => {
      const response = await post('SageMaker.CreateAutoMLJob', '{}');
      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
      expect(await json(response)).toMatchObject({ __type: 'UnknownOperationException' });
    });

    it('answers malformed JSON with SerializationException and keeps serving', async () => {
      const response = await post('SageMaker.ListModels', '{not json');
      expect(response.status).toBe(400);
      expect((await json(response)).__type).toBe('SerializationException');
      const listed = await post('SageMaker.ListModels', '{}');
      expect(listed.status).toBe(200);
      expect(Array.isArray((await json(listed)).Models)).toBe(true);
    });

    it('puts timestamps on the wire as epoch seconds', async () => {
      await createModel('wire-model');
      const response = await post('SageMaker.DescribeModel', JSON.stringify({ ModelName: 'wire-model' }));
      const body = await json(response);
      expect(typeof body.CreationTime).toBe('number');
      expect(Math.abs(body.CreationTime! - Date.now() / 1000)).toBeLessThan(60);
    });
  });
});
