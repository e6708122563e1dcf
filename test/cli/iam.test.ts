/**
 * IAM enforcement seen from the command line: `--no-iam` (npm start, npm run local) reaches the local cloud; the
 * summary names every request IAM denied (`denials`, the "Denied by IAM" block before the result); a denied run's
 * cause, as `knn-pipeline show`/`watch` print it, names the principal, the action and the resource in full; and a
 * training job not created yet reads as not found rather than an error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunSummarySchema } from '../../src/artifacts/summary';
import type { Denial } from '../../local/iam/authorizer';
import { LocalCloud } from '../../local/cloud';
import { loadPolicies, withoutPermission } from '../../local/iam/template';
import { program as localServerProgram, startLocalServer } from '../../local/server';
import { renderDenials } from '../../cli/common/render';
import { program } from '../../cli/start/main';
import { runLocal, runOnCloud, type LocalRunOptions } from '../../cli/start/runLocal';
import { distinctDenials, localCloudTarget } from '../../cli/start/summary';
import { showCommand } from '../../cli/knn-pipeline/commands/show';
import { watchCommand } from '../../cli/knn-pipeline/commands/watch';

const ROOT = path.resolve(__dirname, '../..');
const IRIS = path.join(ROOT, 'data/iris.csv');
const IRIS_ACCURACY = 0.9736842105263158;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'knn-cli-iam-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const startOptions = (...args: string[]) =>
  program()
    .parse(['--data', IRIS, '--dir', dir, ...args], { from: 'user' })
    .opts<LocalRunOptions>();

describe('--no-iam', () => {
  test('npm start and npm run local enforce IAM by default and take --no-iam to switch it off', () => {
    expect(startOptions().iam).toBe(true);
    expect(startOptions('--no-iam').iam).toBe(false);
    const server = (...args: string[]) => localServerProgram().parse(args, { from: 'user' }).opts<{ iam: boolean }>();
    expect(server().iam).toBe(true);
    expect(server('--no-iam').iam).toBe(false);
    for (const help of [program().helpInformation(), localServerProgram().helpInformation()]) {
      expect(help).toContain('--no-iam');
      expect(help).toContain('IAM enforcement from serverless.yml');
    }
  });

  test('npm run local: iam false reaches the local cloud; GET /_local/denials lists the denials', async () => {
    for (const iam of [false, undefined]) {
      const server = await startLocalServer({ directory: path.join(dir, `server-${iam}`), basePort: 0, iam });
      try {
        expect(server.cloud.authorizer === undefined).toBe(iam === false);
        const response = await fetch(`${server.endpoints.endpoints.control}/_local/denials`);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual([]);
      } finally {
        await server.close();
      }
    }
  }, 60_000);

  test('npm start -- --no-iam starts the local cloud without enforcement; the Iris run is unchanged', async () => {
    const start = jest.spyOn(LocalCloud, 'start');
    const lines: string[] = [];
    try {
      const summary = await runLocal(startOptions('--no-iam'), (line) => lines.push(line));
      expect(start).toHaveBeenCalledWith(expect.objectContaining({ iam: false }));
      const cloud = (await start.mock.results[0].value) as LocalCloud;
      expect(cloud.authorizer).toBeUndefined();
      expect(summary).toMatchObject({ status: 'SUCCEEDED', metrics: { accuracy: IRIS_ACCURACY }, denials: [] });
      expect(lines.join('\n')).toContain('IAM off (--no-iam)');
    } finally {
      start.mockRestore();
    }
  }, 120_000);
});

describe('denials in the summary', () => {
  test('a normal Iris run, enforced, has none: denials is an empty array and no "Denied by IAM" block', async () => {
    const lines: string[] = [];
    const summary = await runLocal(startOptions(), (line) => lines.push(line));
    expect(summary).toMatchObject({ status: 'SUCCEEDED', metrics: { accuracy: IRIS_ACCURACY }, denials: [] });
    expect(RunSummarySchema.parse(summary)).toEqual(summary);
    const output = lines.join('\n');
    expect(output).toContain('IAM enforced from serverless.yml');
    expect(output).not.toContain('Denied by IAM');
  }, 120_000);

  test('a run whose state machine may not create the training job fails; the summary and show/watch name the denial', async () => {
    // The template's policies, but the state machine's role without sagemaker:CreateTrainingJob.
    const policies = withoutPermission(await loadPolicies(), 'StateMachineRole', 'sagemaker:CreateTrainingJob');
    const cloud = await LocalCloud.start({ directory: path.join(dir, 'denied'), iam: true, policies });
    const lines: string[] = [];
    try {
      const summary = await runOnCloud(cloud, { data: IRIS, dir: path.join(dir, 'denied') }, (l) => lines.push(l));
      expect(RunSummarySchema.parse(summary)).toEqual(summary);
      expect(summary.status).toBe('FAILED');

      const session = expect.stringMatching(/^arn:aws:sts::000000000000:assumed-role\/.*StateMachineRole.*\//);
      const jobArn = expect.stringMatching(/^arn:aws:sagemaker:us-east-1:000000000000:training-job\/knnp-local--iris-/);
      // Train's retries are denied the same way: the summary lists the denial once.
      expect(summary.denials).toEqual([
        {
          principal: session,
          action: 'sagemaker:CreateTrainingJob',
          resource: jobArn,
          message: expect.stringContaining('is not authorized to perform: sagemaker:CreateTrainingJob on resource'),
        },
      ]);
      const [denial] = summary.denials;
      expect(cloud.denials.length).toBeGreaterThanOrEqual(1);

      // Human output: the block, one line per denial, before the result line.
      const output = lines.join('\n');
      const block = output.indexOf('Denied by IAM');
      expect(block).toBeGreaterThan(-1);
      expect(block).toBeLessThan(output.indexOf(`Execution ${summary.executionName}: FAILED`));
      expect(output.split('\n')).toContainEqual(`  ✖ ${denial.principal}  ${denial.action}  ${denial.resource}`);

      // The execution's cause carries AWS's denial text, and show and watch print it whole.
      const named = [`User: ${denial.principal}`, `perform: ${denial.action}`, `resource: "${denial.resource}"`];
      for (const part of named) expect(summary.cause).toContain(part);
      const target = localCloudTarget(cloud);
      for (const command of [showCommand, watchCommand]) {
        const out: string[] = [];
        const code = await command(
          target,
          summary.executionName,
          {},
          { out: (l) => out.push(l), err: () => undefined },
        );
        expect(code).toBe(command === showCommand ? 0 : 1);
        const printed = out.join('\n');
        expect(printed).toContain(summary.cause);
        // The training job was never created: not found, not an error (exit 2).
        if (command === showCommand) expect(printed).toMatch(/Training job\s+knnp-local--iris-\S+\s+not found/);
      }
    } finally {
      await cloud.close();
    }
  }, 120_000);

  test('formatting: one line per denial (principal, action, resource); repeats of one denial count once', () => {
    const denial = (action: string): Denial => ({
      principal: 'function:evaluate',
      principalArn: 'arn:aws:sts::000000000000:assumed-role/knn-pipeline-local-EvaluateFunctionRole-X/evaluate',
      action,
      resource: 'arn:aws:s3:::knn-pipeline-local-data/runs/r/evaluation/metrics.json',
      kind: 'implicit',
      message: `User: … is not authorized to perform: ${action}`,
      statements: [],
      at: '2026-01-01T00:00:00.000Z',
    });
    const denials = distinctDenials([denial('s3:PutObject'), denial('s3:PutObject'), denial('s3:GetObject')]);
    expect(denials).toEqual([
      {
        principal: 'arn:aws:sts::000000000000:assumed-role/knn-pipeline-local-EvaluateFunctionRole-X/evaluate',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::knn-pipeline-local-data/runs/r/evaluation/metrics.json',
        message: 'User: … is not authorized to perform: s3:PutObject',
      },
      expect.objectContaining({ action: 's3:GetObject' }),
    ]);
    const lines = renderDenials(denials).split('\n');
    expect(lines[0]).toBe('Denied by IAM (2 requests: principal, action, resource)');
    expect(lines[1]).toBe(
      '  ✖ arn:aws:sts::000000000000:assumed-role/knn-pipeline-local-EvaluateFunctionRole-X/evaluate  s3:PutObject  arn:aws:s3:::knn-pipeline-local-data/runs/r/evaluation/metrics.json',
    );
    expect(lines[2]).toContain('s3:GetObject');
  });
});
