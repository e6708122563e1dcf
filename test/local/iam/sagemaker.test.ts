import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  CreateTransformJobCommand,
  DescribeEndpointCommand,
  DescribeTransformJobCommand,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Authorizer } from '../../../local/iam/authorizer';
import { credentialsFor, principal, type PrincipalId } from '../../../local/iam/principals';
import { loadPolicies } from '../../../local/iam/template';
import { startLocalS3, type LocalS3 } from '../../../local/s3';
import { startLocalSageMaker, type LocalSageMaker } from '../../../local/sagemaker';
import { controlPlaneChecks } from '../../../local/sagemaker/iam';
import { clusteredCsv, knnTrainingJobRequest, pollUntil } from '../../../local/sagemaker/testkit';

const BUCKET = 'knn-pipeline-local-data';
const ROLE = principal('sageMaker').arn;

describe('local SageMaker with IAM enforcement', () => {
  let directory: string;
  let s3: LocalS3;
  let sageMaker: LocalSageMaker;
  let authorizer: Authorizer;
  const clients: { destroy(): void }[] = [];

  const control = (id: PrincipalId) => {
    const client = new SageMakerClient({
      endpoint: sageMaker.endpoint,
      region: 'us-east-1',
      credentials: credentialsFor(id),
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  const runtime = (id: PrincipalId) => {
    const client = new SageMakerRuntimeClient({
      endpoint: sageMaker.endpoint,
      region: 'us-east-1',
      credentials: credentialsFor(id),
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  const job = (name: string, trainPrefix: string) => ({
    ...knnTrainingJobRequest({ name, bucket: BUCKET, trainPrefix, outputPath: `s3://${BUCKET}/runs/run1/output/` }),
    RoleArn: ROLE,
    Tags: [{ Key: 'run', Value: 'run1' }],
  });
  const waitForJob = (name: string) =>
    pollUntil<DescribeTrainingJobCommandOutput>(
      () => control('stateMachine').send(new DescribeTrainingJobCommand({ TrainingJobName: name })),
      (j) => String(j.TrainingJobStatus),
      (j) => ['Completed', 'Failed', 'Stopped'].includes(String(j.TrainingJobStatus)),
    );
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error as Error & { $metadata: { httpStatusCode?: number } },
    );

  beforeAll(async () => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'iam-sagemaker-'));
    authorizer = new Authorizer(await loadPolicies());
    s3 = await startLocalS3({ directory, buckets: [BUCKET], authorizer });
    sageMaker = await startLocalSageMaker({
      s3Endpoint: s3.endpoint,
      region: 'us-east-1',
      accountId: '000000000000',
      timing: { trainingStartDelayMs: 20, endpointCreateDelayMs: 20 },
      authorizer,
    });
    const user = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: credentialsFor('user'),
    });
    clients.push(user);
    await user.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/run1/input/train/train.csv', Body: clusteredCsv(10) }),
    );
    await user.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/run1/cv/fold-1/train/train.csv', Body: clusteredCsv(10) }),
    );
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await sageMaker?.close();
    await s3?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('trains as the execution role on input/ channels, and fails a job whose channel the role may not read', async () => {
    const sm = control('stateMachine');
    await sm.send(new CreateTrainingJobCommand(job('knnp-local--run1', 'runs/run1/input/train/')));
    expect((await waitForJob('knnp-local--run1')).final.TrainingJobStatus).toBe('Completed');

    await sm.send(new CreateTrainingJobCommand(job('knnp-local--run1-f1', 'runs/run1/cv/fold-1/train/')));
    const failed = (await waitForJob('knnp-local--run1-f1')).final;
    expect(failed.TrainingJobStatus).toBe('Failed');
    expect(failed.FailureReason).toMatch(/^ClientError: /);
    expect(failed.FailureReason).toContain(`s3://${BUCKET}/runs/run1/cv/fold-1/train/train.csv`);
    expect(failed.FailureReason).toContain('AccessDenied');
    expect(authorizer.denials.at(-1)).toMatchObject({
      principal: 'sageMaker',
      action: 's3:GetObject',
      resource: `arn:aws:s3:::${BUCKET}/runs/run1/cv/fold-1/train/train.csv`,
    });
  });

  it('answers AccessDeniedException (400, JSON 1.1) to a caller without the action', async () => {
    const error = await rejection(
      control('function:cleanup').send(new CreateTrainingJobCommand(job('knnp-local--run2', 'runs/run1/input/train/'))),
    );
    expect(error.name).toBe('AccessDeniedException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(/is not authorized to perform: sagemaker:CreateTrainingJob on resource: /);
    // The state machine may create jobs of its own stage only.
    const otherStage = await rejection(
      control('stateMachine').send(new CreateTrainingJobCommand(job('knnp-prod--run2', 'runs/run1/input/train/'))),
    );
    expect(otherStage.name).toBe('AccessDeniedException');
  });

  it('checks iam:PassRole of the role passed, and that SageMaker may assume it', async () => {
    const passPrepare = await rejection(
      control('stateMachine').send(
        new CreateTrainingJobCommand({
          ...job('knnp-local--run3', 'runs/run1/input/train/'),
          RoleArn: principal('function:prepare').arn,
        }),
      ),
    );
    expect(passPrepare.name).toBe('AccessDeniedException');
    expect(passPrepare.message).toMatch(/iam:PassRole/);
    // The user may pass any role, but SageMaker cannot assume a Lambda role.
    const untrusted = await rejection(
      control('user').send(
        new CreateTrainingJobCommand({
          ...job('knnp-local--run3', 'runs/run1/input/train/'),
          RoleArn: principal('function:prepare').arn,
        }),
      ),
    );
    expect(untrusted.name).toBe('ValidationException');
    expect(untrusted.message).toMatch(/Could not assume role .*PrepareFunctionRole/);
  });

  it('authorises Tags on a create call as sagemaker:AddTags on the new resource, and the passed role as PassRole', () => {
    const context = { region: 'us-east-1', accountId: '000000000000' };
    const config = { EndpointConfigName: 'knnp-local--run1-config', ProductionVariants: [] };
    const arn = 'arn:aws:sagemaker:us-east-1:000000000000:endpoint-config/knnp-local--run1-config';
    expect(controlPlaneChecks(context, 'stateMachine', 'CreateEndpointConfig', config)).toEqual([
      { principal: 'stateMachine', action: 'sagemaker:CreateEndpointConfig', resource: arn },
    ]);
    expect(
      controlPlaneChecks(context, 'stateMachine', 'CreateEndpointConfig', {
        ...config,
        Tags: [{ Key: 'a', Value: 'b' }],
      }),
    ).toContainEqual({ principal: 'stateMachine', action: 'sagemaker:AddTags', resource: arn });
    expect(
      controlPlaneChecks(context, 'stateMachine', 'CreateEndpoint', {
        EndpointName: 'knnp-local--Run1-endpoint',
        EndpointConfigName: 'knnp-local--run1-config',
      }).map((check) => check.resource),
    ).toEqual(['arn:aws:sagemaker:us-east-1:000000000000:endpoint/knnp-local--run1-endpoint', arn]);
    expect(
      controlPlaneChecks(context, 'user', 'CreateModel', { ModelName: 'm', ExecutionRoleArn: ROLE }),
    ).toContainEqual({
      principal: 'user',
      action: 'iam:PassRole',
      resource: ROLE,
      context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
    });
  });

  it('lets evaluate invoke its stage endpoints and refuses others (runtime)', async () => {
    const sm = control('stateMachine');
    const artifact = (await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'knnp-local--run1' })))
      .ModelArtifacts!.S3ModelArtifacts!;
    const tags = [{ Key: 'run', Value: 'run1' }];
    await sm.send(
      new CreateModelCommand({
        ModelName: 'knnp-local--run1-model',
        ExecutionRoleArn: ROLE,
        PrimaryContainer: { Image: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1', ModelDataUrl: artifact },
        Tags: tags,
      }),
    );
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'knnp-local--run1-config',
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: 'knnp-local--run1-model',
            InstanceType: 'ml.m5.large',
            InitialInstanceCount: 1,
          },
        ],
        Tags: tags,
      }),
    );
    await sm.send(
      new CreateEndpointCommand({
        EndpointName: 'knnp-local--run1-endpoint',
        EndpointConfigName: 'knnp-local--run1-config',
        Tags: tags,
      }),
    );
    const endpoint = await pollUntil(
      () => sm.send(new DescribeEndpointCommand({ EndpointName: 'knnp-local--run1-endpoint' })),
      (e) => String(e.EndpointStatus),
      (e) => e.EndpointStatus !== 'Creating',
    );
    expect(endpoint.final.EndpointStatus).toBe('InService'); // the model was read with the execution role
    const body = Buffer.from('0,0,0,0\n');
    const invoke = (id: PrincipalId) =>
      runtime(id).send(
        new InvokeEndpointCommand({ EndpointName: 'knnp-local--run1-endpoint', Body: body, ContentType: 'text/csv' }),
      );
    expect((await invoke('function:evaluate')).$metadata.httpStatusCode).toBe(200);
    const error = await rejection(invoke('function:report'));
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toMatch(/sagemaker:InvokeEndpoint on resource: .*endpoint\/knnp-local--run1-endpoint/);
  });

  it('runs a transform job as the model’s execution role: input and output where the role may read and write', async () => {
    const user = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: credentialsFor('user'),
    });
    clients.push(user);
    for (const key of ['runs/run1/input/test/test.csv', 'raw/test.csv']) {
      await user.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '0,0,0,0\n10,10,10,10\n' }));
    }
    const transform = async (name: string, input: string, output: string) => {
      await control('user').send(
        new CreateTransformJobCommand({
          TransformJobName: name,
          ModelName: 'knnp-local--run1-model', // created with the SageMaker execution role (previous test)
          TransformInput: {
            DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${input}` } },
            ContentType: 'text/csv',
            SplitType: 'Line',
          },
          TransformOutput: { S3OutputPath: `s3://${BUCKET}/${output}`, Accept: 'application/jsonlines' },
          TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
        }),
      );
      return (
        await pollUntil(
          () => control('user').send(new DescribeTransformJobCommand({ TransformJobName: name })),
          (j) => String(j.TransformJobStatus),
          (j) => ['Completed', 'Failed', 'Stopped'].includes(String(j.TransformJobStatus)),
        )
      ).final;
    };

    expect(
      (await transform('knnp-local--run1-t1', 'runs/run1/input/test/', 'runs/run1/output/t1')).TransformJobStatus,
    ).toBe('Completed');
    const written = await user.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/run1/output/t1/test.csv.out' }));
    expect(written.ContentLength).toBeGreaterThan(0);

    const unreadable = await transform('knnp-local--run1-t2', 'raw/', 'runs/run1/output/t2');
    expect(unreadable.TransformJobStatus).toBe('Failed');
    expect(unreadable.FailureReason).toMatch(
      /^ClientError: Failed to list the input s3:\/\/knn-pipeline-local-data\/raw\/: AccessDenied/,
    );

    const unwritable = await transform('knnp-local--run1-t3', 'runs/run1/input/test/', 'runs/run1/evaluation/t3');
    expect(unwritable.TransformJobStatus).toBe('Failed');
    expect(unwritable.FailureReason).toMatch(
      /^ClientError: Failed to upload the output to s3:\/\/knn-pipeline-local-data\/runs\/run1\/evaluation\/t3\/test\.csv\.out: AccessDenied/,
    );
    expect(authorizer.denials.at(-1)).toMatchObject({
      principal: 'sageMaker',
      action: 's3:PutObject',
      resource: `arn:aws:s3:::${BUCKET}/runs/run1/evaluation/t3/test.csv.out`,
    });
  });

  it('refuses requests signed with a key it never issued', async () => {
    const stranger = new SageMakerClient({
      endpoint: sageMaker.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    clients.push(stranger);
    const error = await rejection(
      stranger.send(new DescribeTrainingJobCommand({ TrainingJobName: 'knnp-local--run1' })),
    );
    expect(error.name).toBe('UnrecognizedClientException');
  });
});
