/**
 * Issue 12, "for each role": every function role of the template that test/e2e/iam-denials.test.ts does not cover,
 * with exactly the one permission its step needs taken out (`withoutPermission`). Each case runs the real pipeline on
 * Iris through the local cloud with IAM enforced and checks what AWS would do: where the run fails (or, where the
 * definition catches the failure, where it goes on), the error and cause, the cleanup, what is left in SageMaker, and
 * that `cloud.denials` names principal, action and resource.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL, type LocalCloud, type LocalCloudOptions } from '../../local/cloud';
import { principal, type FunctionName } from '../../local/iam/principals';
import { loadPolicies, withoutPermission } from '../../local/iam/template';
import type { ExecutionRecord } from '../../local/stepfunctions/runner';
import { s3Client } from '../../src/aws/clients';
import { servingConfigName, servingEndpointName } from '../../src/domain/naming';
import { startCloud, useEmulators, type RunningCloud } from '../support/emulators';
import { expectNoResourcesLeft, IRIS, putRaw, runFromHistory, visitedStates } from '../support/localCloud';

const BUCKET_ARN = `arn:aws:s3:::${LOCAL.bucket}`;
const SAGEMAKER_ARN = `arn:aws:sagemaker:${LOCAL.region}:${LOCAL.account}`;

// Started once for the whole file; `loadPolicies` caches the resolved template.
const policies = loadPolicies();

/** The whole local cloud enforcing the template without `action` (on `resource`) for `role`, with Iris under raw/. */
function cloudWithout(
  role: string,
  action: string,
  resource?: string,
  options: Partial<LocalCloudOptions> = {},
): RunningCloud {
  const local = useEmulators(async () =>
    startCloud({ s3Trigger: false, ...options, policies: withoutPermission(await policies, role, action, resource) }),
  );
  beforeAll(() => putRaw('raw/iris.csv', IRIS));
  return local;
}

function runIris(local: RunningCloud, input: Record<string, unknown> = {}): Promise<ExecutionRecord> {
  return local.cloud.startExecution({ dataset: { key: 'raw/iris.csv' }, ...input }).done;
}

/** AWS's implicit-deny message for a role session. */
function deniedMessage(fn: FunctionName, action: string, resource: string): string {
  return `User: ${principal(`function:${fn}`).sessionArn} is not authorized to perform: ${action} on resource: "${resource}" because no identity-based policy allows the ${action} action`;
}

/** Every denial of the run is the removed permission, for that function. */
function expectOnlyDenials(cloud: LocalCloud, fn: FunctionName, action: string, resource: string | RegExp): void {
  expect(cloud.denials.length).toBeGreaterThan(0);
  for (const denial of cloud.denials) {
    expect(denial).toMatchObject({
      principal: `function:${fn}`,
      principalArn: principal(`function:${fn}`).sessionArn,
      action,
      kind: 'implicit',
    });
    if (typeof resource === 'string') expect(denial.resource).toBe(resource);
    else expect(denial.resource).toMatch(resource);
    expect(denial.message).toBe(deniedMessage(fn, action, denial.resource));
  }
}

/** FAILED at `state`, through CleanUpAfterFailure, nothing left in SageMaker. */
async function expectDeniedAt(local: RunningCloud, record: ExecutionRecord, state: string): Promise<void> {
  expect(record.status).toBe('FAILED');
  expect(visitedStates(record).slice(-3)).toEqual([state, 'CleanUpAfterFailure', 'PipelineFailed']);
  await expectNoResourcesLeft(local.cloud, record);
}

async function exists(key: string): Promise<boolean> {
  return s3Client()
    .send(new HeadObjectCommand({ Bucket: LOCAL.bucket, Key: key }))
    .then(
      () => true,
      () => false,
    );
}

/** Polls `check` until it holds or `ms` pass; returns its last answer. */
async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  return check();
}

const janitorRun = (cloud: LocalCloud, record: ExecutionRecord) =>
  cloud.janitorRuns.find((run) => run.executionName === record.name);

// --- Prepare: no Catch --------------------------------------------------------------------------------------------

describe('PrepareFunctionRole without s3:GetObject on raw/*', () => {
  const local = cloudWithout('PrepareFunctionRole', 's3:GetObject', `${BUCKET_ARN}/raw/*`);

  test('Prepare has no Catch: the execution fails at Prepare; S3 refused the dataset; nothing in SageMaker', async () => {
    const record = await runIris(local);
    const dataset = `${BUCKET_ARN}/raw/iris.csv`;
    expect(record.status).toBe('FAILED');
    expect(visitedStates(record)).toEqual(['Prepare']);
    // Prepare's first read is a HeadObject, and S3 answers a refused HEAD with a bare 403 (a HEAD response has no
    // body), so the SDK alone has no code or message: Prepare names the object and the permission instead. The
    // denial itself (principal, action, resource) is in the IAM record.
    expect(record.error).toBe('ObjectAccessDeniedError');
    expect(JSON.parse(record.cause!).errorMessage).toMatch(
      /^S3 refused HeadObject on s3:\/\/[^/]+\/raw\/iris\.csv \(403 Forbidden\): the caller needs s3:GetObject/,
    );
    expect(runFromHistory(record)).toBeUndefined();
    await expectNoResourcesLeft(local.cloud, record);
    expect(local.cloud.sageMaker.listResources().trainingJobs).toEqual([]);
    expectOnlyDenials(local.cloud, 'prepare', 's3:GetObject', dataset);
  });
});

// --- Split and Upload: caught to CleanUpAfterFailure -------------------------------------------------------------

describe('SplitFunctionRole without s3:PutObject on runs/*', () => {
  const local = cloudWithout('SplitFunctionRole', 's3:PutObject', `${BUCKET_ARN}/runs/*`);

  test('fails at Split with S3 AccessDenied naming role, action and split.json; CleanUpAfterFailure ran', async () => {
    const record = await runIris(local);
    const run = runFromHistory(record)!;
    const splitArn = `${BUCKET_ARN}/runs/${run.runId}/prepared/split.json`;
    expect(record.error).toBe('AccessDenied');
    expect(record.cause).toContain(`Split failed: AccessDenied: ${deniedMessage('split', 's3:PutObject', splitArn)}`);
    await expectDeniedAt(local, record, 'Split');
    expect(await exists(`runs/${run.runId}/prepared/split.json`)).toBe(false);
    expectOnlyDenials(local.cloud, 'split', 's3:PutObject', splitArn);
  });
});

describe('UploadFunctionRole without s3:PutObject on runs/*', () => {
  const local = cloudWithout('UploadFunctionRole', 's3:PutObject', `${BUCKET_ARN}/runs/*`);

  test('fails at Upload with S3 AccessDenied naming role, action and a channel; CleanUpAfterFailure ran', async () => {
    const record = await runIris(local);
    const run = runFromHistory(record)!;
    expect(record.error).toBe('AccessDenied');
    expect(record.cause).toMatch(/^Upload failed: AccessDenied: /);
    expect(record.cause).toMatch(
      new RegExp(`on resource: "${BUCKET_ARN}/runs/${run.runId}/input/(train/train|test/test)\\.csv"`),
    );
    await expectDeniedAt(local, record, 'Upload');
    expect(local.cloud.sageMaker.listResources().trainingJobs).toEqual([]);
    expectOnlyDenials(
      local.cloud,
      'upload',
      's3:PutObject',
      new RegExp(`^${BUCKET_ARN}/runs/${run.runId}/input/(train/train|test/test)\\.csv$`),
    );
  });
});

// --- Report: caught to QualityGate --------------------------------------------------------------------------------

describe('ReportFunctionRole without s3:PutObject of evaluation/report.html', () => {
  const local = cloudWithout('ReportFunctionRole', 's3:PutObject', `${BUCKET_ARN}/runs/*/evaluation/report.html`);

  test("Report's Catch goes on to QualityGate: the run still passes the gate; no report.html; the denial is recorded", async () => {
    const record = await runIris(local);
    const run = runFromHistory(record)!;
    const reportKey = `runs/${run.runId}/evaluation/report.html`;
    expect(visitedStates(record).slice(-4)).toEqual(['CleanUp', 'Report', 'QualityGate', 'Succeeded']);
    expect(record.status).toBe('SUCCEEDED');
    expect(await exists(reportKey)).toBe(false);
    expect(await exists(`runs/${run.runId}/evaluation/metrics.json`)).toBe(true);
    await expectNoResourcesLeft(local.cloud, record);
    expectOnlyDenials(local.cloud, 'report', 's3:PutObject', `${BUCKET_ARN}/${reportKey}`);
  });
});

// --- CleanUp: caught to CleanupFailed; the janitor finishes the job -----------------------------------------------

describe('CleanupFunctionRole without sagemaker:DeleteEndpoint', () => {
  let leftAtEnd: ReturnType<LocalCloud['sageMaker']['listResources']> | undefined;
  const local = cloudWithout('CleanupFunctionRole', 'sagemaker:DeleteEndpoint', undefined, {
    // What SageMaker holds when the execution ends, before the janitor (run on its end) gets to it.
    onEvent: (_record, event) => {
      if (event.type === 'StateEntered' && event.state?.name === 'CleanupFailed') {
        leftAtEnd = local.cloud.sageMaker.listResources();
      }
    },
  });

  test('CleanUp fails after its retries and the run ends in CleanupFailed with the endpoint left; the janitor deletes it', async () => {
    const record = await runIris(local);
    const run = runFromHistory(record)!;
    const endpointArn = `${SAGEMAKER_ARN}:endpoint/${run.names.endpoint}`;
    expect(record.status).toBe('FAILED');
    expect(visitedStates(record).slice(-4)).toEqual([
      'PromotionDecision',
      'CleanUp',
      'DescribeCleanupFailure',
      'CleanupFailed',
    ]);
    expect(record.error).toBe('CleanupFailed');
    expect(record.cause).toContain(deniedMessage('cleanup', 'sagemaker:DeleteEndpoint', endpointArn));
    expect(record.cause).toContain(`Endpoint ${run.names.endpoint} may still be running and billing`);
    // CleanUp deletes the endpoint first; refused, it stops there: endpoint, config and model are all left.
    expect(leftAtEnd).toMatchObject({
      endpoints: [run.names.endpoint],
      endpointConfigs: [run.names.endpointConfig],
      models: [run.names.model],
    });
    expectOnlyDenials(local.cloud, 'cleanup', 'sagemaker:DeleteEndpoint', endpointArn);

    // The janitor's role still may delete it: after the execution ends, nothing is left (bounded wait).
    const empty = () => {
      const left = local.cloud.sageMaker.listResources();
      return left.endpoints.length + left.endpointConfigs.length + left.models.length === 0;
    };
    expect(await eventually(empty)).toBe(true);
    await expectNoResourcesLeft(local.cloud, record);
    expect(janitorRun(local.cloud, record)?.result).toMatchObject({
      runId: run.runId,
      cleaned: true,
      deleted: { endpoint: 'deleted', endpointConfig: 'deleted', model: 'deleted' },
    });
  });
});

// --- Janitor: the run succeeds, its notification is refused -------------------------------------------------------

describe('JanitorFunctionRole without events:PutEvents', () => {
  const local = cloudWithout('JanitorFunctionRole', 'events:PutEvents');

  test("the run succeeds; the janitor's PutEvents is refused; no outcome on the bus", async () => {
    const record = await runIris(local);
    expect(record.status).toBe('SUCCEEDED');
    expect(await eventually(() => janitorRun(local.cloud, record) !== undefined)).toBe(true);
    const busArn = `arn:aws:events:${LOCAL.region}:${LOCAL.account}:event-bus/default`;
    const message = deniedMessage('janitor', 'events:PutEvents', busArn);
    expect(janitorRun(local.cloud, record)?.result).toEqual({ error: `AccessDeniedException: ${message}` });
    expect(
      local.cloud.eventBridge.events.filter(
        (e) => e.source === 'knn-pipeline' && e.detailType === 'Pipeline Run Finished',
      ),
    ).toEqual([]);
    await expectNoResourcesLeft(local.cloud, record);
    expectOnlyDenials(local.cloud, 'janitor', 'events:PutEvents', busArn);
  });
});

// --- Promote (serving mode) ---------------------------------------------------------------------------------------

describe('PromoteFunctionRole without sagemaker:DescribeEndpoint on the serving endpoint', () => {
  const local = cloudWithout('PromoteFunctionRole', 'sagemaker:DescribeEndpoint');

  test('fails at RecordPromotion with AccessDeniedException; CleanUpAfterFailure ran; the serving endpoint stays', async () => {
    const record = await runIris(local, { serve: true });
    const run = runFromHistory(record)!;
    const serving = servingEndpointName(LOCAL.namePrefix);
    const servingArn = `${SAGEMAKER_ARN}:endpoint/${serving}`;
    expect(record.status).toBe('FAILED');
    expect(visitedStates(record).slice(-3)).toEqual(['RecordPromotion', 'CleanUpAfterFailure', 'PipelineFailed']);
    expect(record.error).toBe('AccessDeniedException');
    expect(record.cause).toContain(
      `RecordPromotion failed: AccessDeniedException: ${deniedMessage('promote', 'sagemaker:DescribeEndpoint', servingArn)}`,
    );
    expect(await exists(`runs/${run.runId}/serving.json`)).toBe(false);
    // The run's own endpoint and config are gone; the stable serving endpoint (created by this run, live) and the
    // config and model it serves are not the run's to delete, and stay.
    const left = local.cloud.sageMaker.listResources();
    expect(left.endpoints).toEqual([serving]);
    expect(left.endpointConfigs).toEqual([servingConfigName(run.names)]);
    expect(left.models).toEqual([run.names.model]);
    // The janitor (after the FAILED execution) agrees: nothing of the run's own to delete, its model is serving.
    expect(janitorRun(local.cloud, record)?.result).toMatchObject({
      cleaned: true,
      deleted: { endpoint: 'absent', endpointConfig: 'absent', model: 'serving' },
    });
    expectOnlyDenials(local.cloud, 'promote', 'sagemaker:DescribeEndpoint', servingArn);
  });
});
