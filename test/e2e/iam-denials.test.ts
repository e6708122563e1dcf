/**
 * A missing permission fails where AWS would fail, with AWS's error, and the run still cleans up. Each case runs the
 * real pipeline on Iris through the local cloud with IAM enforced and exactly one permission of the template taken
 * out — once by editing a copy of the template's YAML (loaded with `loadPolicies({ projectDir })`), otherwise in the
 * resolved policies (`withoutPermission`) — and checks the failed state, the error and cause, that
 * CleanUpAfterFailure ran and left nothing in SageMaker, and that `cloud.denials` names principal, action and resource.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { LOCAL } from '../../local/cloud';
import { Authorizer } from '../../local/iam/authorizer';
import { principal } from '../../local/iam/principals';
import { loadPolicies, withoutPermission, type ResolvedPolicies } from '../../local/iam/template';
import type { ExecutionRecord } from '../../local/stepfunctions/runner';
import { foldTrainingJobName } from '../../src/domain/naming';
import { startCloud, useEmulators, type RunningCloud } from '../support/emulators';
import { expectNoResourcesLeft, IRIS, putRaw, ROOT, runFromHistory, visitedStates } from '../support/localCloud';

const BUCKET_ARN = `arn:aws:s3:::${LOCAL.bucket}`;
const SAGEMAKER_ROLE = principal('sageMaker');
const STATE_MACHINE_ROLE = principal('stateMachine');
const EVALUATE_ROLE = principal('function:evaluate');

/** The template's policies, as every local cloud enforces them (cached by `loadPolicies`). */
const realPolicies = (): Promise<ResolvedPolicies> => loadPolicies();

/** The whole local cloud enforcing `policies`, with Iris under raw/. */
function cloudWith(policies: () => Promise<ResolvedPolicies>): RunningCloud {
  const local = useEmulators(async () => startCloud({ s3Trigger: false, policies: await policies() }));
  beforeAll(() => putRaw('raw/iris.csv', IRIS));
  return local;
}

function runIris(local: RunningCloud, input: Record<string, unknown> = {}): Promise<ExecutionRecord> {
  return local.cloud.startExecution({ dataset: { key: 'raw/iris.csv' }, ...input }).done;
}

/** FAILED at `state` (the last state before the cleanup), through CleanUpAfterFailure, nothing left in SageMaker. */
async function expectDeniedAt(local: RunningCloud, record: ExecutionRecord, state: string): Promise<void> {
  expect(record.status).toBe('FAILED');
  expect(visitedStates(record).slice(-3)).toEqual([state, 'CleanUpAfterFailure', 'PipelineFailed']);
  await expectNoResourcesLeft(local.cloud, record);
  const left = local.cloud.sageMaker.listResources();
  expect([...left.endpoints, ...left.endpointConfigs, ...left.models]).toEqual([]);
}

// --- 1. a copy of the template with the permission deleted from its YAML -------------------------------------------

/**
 * A throwaway project directory: serverless.yml, resources/, scripts/, statemachine/ and package.json copied,
 * node_modules linked, so `serverless print` there resolves the template exactly as in the project.
 */
function copyProject(): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'knn-iam-template-'));
  for (const entry of ['serverless.yml', 'resources', 'scripts', 'statemachine', 'package.json']) {
    cpSync(path.join(ROOT, entry), path.join(directory, entry), { recursive: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(directory, 'node_modules'), 'dir');
  return directory;
}

/** Deletes Evaluate's `InvokeRunAndServingEndpoints` statement (its only sagemaker:InvokeEndpoint grant) as text. */
function removeInvokeEndpointFromYaml(projectDir: string): void {
  const file = path.join(projectDir, 'resources', 'roles', 'evaluate.yml');
  const yaml = readFileSync(file, 'utf8');
  const edited = yaml.replace(/^( *)- Sid: InvokeRunAndServingEndpoints\n[\s\S]*?(?=^\1- Sid: )/m, '');
  expect(edited).not.toBe(yaml);
  expect(edited).not.toContain('sagemaker:InvokeEndpoint');
  writeFileSync(file, edited);
}

describe('the Evaluate function without sagemaker:InvokeEndpoint (removed from a copy of resources/roles/evaluate.yml)', () => {
  let projectDir: string;
  let edited: Promise<ResolvedPolicies>;
  beforeAll(() => {
    projectDir = copyProject();
    removeInvokeEndpointFromYaml(projectDir);
    // A cold `serverless print` of the copy (~10 s), cached inside the copy.
    edited = loadPolicies({ projectDir, cacheDir: path.join(projectDir, '.local-cloud', 'iam') });
  }, 60_000);
  afterAll(() => rmSync(projectDir, { recursive: true, force: true }));
  const local = cloudWith(() => edited);

  test('the edited template differs from the real one by exactly that permission', async () => {
    expect(await edited).toEqual(
      withoutPermission(await realPolicies(), 'EvaluateFunctionRole', 'sagemaker:InvokeEndpoint'),
    );
  });

  test('fails at Evaluate with AccessDeniedException naming the role, action and endpoint; cleans up', async () => {
    const record = await runIris(local);
    const run = runFromHistory(record)!;
    const endpointArn = `arn:aws:sagemaker:${LOCAL.region}:${LOCAL.account}:endpoint/${run.names.endpoint}`;
    const message = `User: ${EVALUATE_ROLE.sessionArn} is not authorized to perform: sagemaker:InvokeEndpoint on resource: "${endpointArn}" because no identity-based policy allows the sagemaker:InvokeEndpoint action`;
    expect(record.error).toBe('AccessDeniedException');
    expect(record.cause).toContain('Evaluate failed: AccessDeniedException: ');
    expect(record.cause).toContain(message);
    await expectDeniedAt(local, record, 'Evaluate');
    expect(local.cloud.denials).toEqual([
      expect.objectContaining({
        principal: 'function:evaluate',
        principalArn: EVALUATE_ROLE.sessionArn,
        action: 'sagemaker:InvokeEndpoint',
        resource: endpointArn,
        kind: 'implicit',
        message,
      }),
    ]);
  });
});

// --- 2. the SageMaker execution role unable to read its channels ---------------------------------------------------

describe('the SageMaker execution role without s3:GetObject on runs/*/input/*', () => {
  const withoutInputReads = async () =>
    withoutPermission(await realPolicies(), 'SageMakerExecutionRole', 's3:GetObject', `${BUCKET_ARN}/runs/*/input/*`);
  const local = cloudWith(withoutInputReads);

  test('only the input reads are gone: the role still reads its model output', async () => {
    const read = (authorizer: Authorizer, key: string) =>
      authorizer
        .authorize({ principal: 'sageMaker', action: 's3:GetObject', resource: `${BUCKET_ARN}/${key}` })
        .then((decision) => decision.allowed);
    const real = new Authorizer(await realPolicies());
    const removed = new Authorizer(await withoutInputReads());
    expect(await read(real, 'runs/r1/input/train/train.csv')).toBe(true);
    expect(await read(removed, 'runs/r1/input/train/train.csv')).toBe(false);
    expect(await read(removed, 'runs/r1/output/r1/output/model.tar.gz')).toBe(true);
  });

  test('the training job ends Failed with a ClientError naming the channel object; the run fails at Train', async () => {
    const record = await runIris(local);
    const run = runFromHistory(record)!;
    const channelArn = `${BUCKET_ARN}/${run.keys.trainChannel}`;
    const job = await local.cloud.sageMakerClient.send(
      new DescribeTrainingJobCommand({ TrainingJobName: run.names.trainingJob }),
    );
    expect(job.TrainingJobStatus).toBe('Failed');
    expect(job.FailureReason).toMatch(/^ClientError: Data download failed:Failed to download /);
    expect(job.FailureReason).toContain(`s3://${LOCAL.bucket}/${run.keys.trainChannel}`);
    expect(job.FailureReason).toContain(
      `User: ${SAGEMAKER_ROLE.sessionArn} is not authorized to perform: s3:GetObject on resource: "${channelArn}"`,
    );
    expect(record.error).toBe('States.TaskFailed');
    expect(record.cause).toMatch(/^Train failed: training job \S+ ended Failed: ClientError: Data download failed:/);
    expect(record.cause).toContain(`s3://${LOCAL.bucket}/${run.keys.trainChannel}`);
    await expectDeniedAt(local, record, 'Train');
    expect(local.cloud.denials).toContainEqual(
      expect.objectContaining({ principal: 'sageMaker', action: 's3:GetObject', resource: channelArn }),
    );
    // Only the job's channel reads were refused: nothing else of the run lacked a permission.
    for (const denial of local.cloud.denials) {
      expect(denial).toMatchObject({ principal: 'sageMaker', action: 's3:GetObject' });
      expect(denial.resource).toMatch(new RegExp(`^${BUCKET_ARN}/runs/[^/]+/input/`));
    }
  });
});

// --- 3. the state machine role unable to pass the SageMaker role ----------------------------------------------------

describe('the state machine role without iam:PassRole', () => {
  const local = cloudWith(async () => withoutPermission(await realPolicies(), 'StateMachineRole', 'iam:PassRole'));

  test('CreateTrainingJob is refused: SageMaker.AmazonSageMakerException (AccessDeniedException) at Train; cleans up', async () => {
    const record = await runIris(local);
    const run = runFromHistory(record)!;
    const message = `User: ${STATE_MACHINE_ROLE.sessionArn} is not authorized to perform: iam:PassRole on resource: "${SAGEMAKER_ROLE.arn}" because no identity-based policy allows the iam:PassRole action`;
    expect(record.error).toBe('SageMaker.AmazonSageMakerException');
    expect(record.cause).toContain(message);
    expect(record.cause).toContain('Service: AmazonSageMaker; Status Code: 400; Error Code: AccessDeniedException');
    // A permanent error: Train's Catch sorts it by the code in the Cause and fails at once (no capacity wait).
    await expectDeniedAt(local, record, 'TrainRefused');
    expect(visitedStates(record).slice(-5, -3)).toEqual(['Train', 'IsTrainErrorTransient']);
    // Refused before it existed: no training job at all.
    await expect(
      local.cloud.sageMakerClient.send(new DescribeTrainingJobCommand({ TrainingJobName: run.names.trainingJob })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    expect(local.cloud.denials.length).toBeGreaterThan(0);
    for (const denial of local.cloud.denials) {
      expect(denial).toMatchObject({
        principal: 'stateMachine',
        principalArn: STATE_MACHINE_ROLE.sessionArn,
        action: 'iam:PassRole',
        resource: SAGEMAKER_ROLE.arn,
        message,
      });
    }
  });
});

// --- 4. cross-validation fold channels -----------------------------------------------------------------------------

describe('cross-validation fold channels with the real template', () => {
  const local = cloudWith(realPolicies);

  test('a 3-fold run passes with every request authorised; its fold jobs read runs/<run>/input/cv/', async () => {
    const record = await runIris(local, { crossValidation: { folds: 3 } });
    expect(record.status).toBe('SUCCEEDED');
    expect(local.cloud.denials).toEqual([]);
    const run = runFromHistory(record)!;
    for (const fold of [1, 2, 3]) {
      const job = await local.cloud.sageMakerClient.send(
        new DescribeTrainingJobCommand({ TrainingJobName: foldTrainingJobName(run.names, fold) }),
      );
      expect(job.TrainingJobStatus).toBe('Completed');
      const uris = job.InputDataConfig!.map((channel) => channel.DataSource!.S3DataSource!.S3Uri);
      expect(uris).toEqual([
        `s3://${LOCAL.bucket}/runs/${run.runId}/input/cv/fold-${fold}/train/`,
        `s3://${LOCAL.bucket}/runs/${run.runId}/input/cv/fold-${fold}/test/`,
      ]);
    }
    await expectNoResourcesLeft(local.cloud, record);
  });

  test('the old runs/<run>/cv/fold-N/ layout would be refused to the SageMaker role', async () => {
    const authorizer = new Authorizer(await realPolicies());
    const read = (key: string) =>
      authorizer.authorize({ principal: 'sageMaker', action: 's3:GetObject', resource: `${BUCKET_ARN}/${key}` });
    expect(await read('runs/r1/input/cv/fold-1/train/train.csv')).toEqual({ allowed: true });
    const old = `${BUCKET_ARN}/runs/r1/cv/fold-1/train/train.csv`;
    expect(await read('runs/r1/cv/fold-1/train/train.csv')).toMatchObject({
      allowed: false,
      kind: 'implicit',
      message: `User: ${SAGEMAKER_ROLE.sessionArn} is not authorized to perform: s3:GetObject on resource: "${old}" because no identity-based policy allows the s3:GetObject action`,
    });
    expect(authorizer.denials).toEqual([
      expect.objectContaining({ principal: 'sageMaker', action: 's3:GetObject', resource: old }),
    ]);
  });
});
