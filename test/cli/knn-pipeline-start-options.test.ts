/**
 * `knn-pipeline start` with the options it could not take before — cross-validation, serving mode and the quality
 * gate — against a local cloud of its own (serving mode leaves the stable endpoint running, by design).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/knn-pipeline/program';
import { startLocalServer, type LocalServer } from '../../local/server';

const IRIS = path.resolve(__dirname, '../../data/iris.csv');
let dir: string;
let server: LocalServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'knn-pipeline-start-'));
  server = await startLocalServer({ directory: dir, basePort: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('--folds 3 --serve --gate-metric macroF1 --gate-threshold 0.95 reach the execution input and the run', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const args = ['start', IRIS, '--folds', '3', '--serve', '--gate-metric', 'macroF1', '--gate-threshold', '0.95'];
  const code = await runCli([...args, '--watch', '--json', '--local', '--endpoints-file', server.endpointsFile], {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  expect(err).toEqual([]);
  expect(code).toBe(0);
  const started = JSON.parse(out.join('\n'));
  expect(started.trigger).toBe('console');
  const record = server.cloud.stateMachine.executions.get(started.executionArn)!.record;
  expect(record.input).toEqual({
    dataset: { key: 'raw/iris.csv' },
    crossValidation: { folds: 3 },
    serve: true,
    qualityGate: { metric: 'macroF1', threshold: 0.95 },
  });
  // The run did what the input asked: three folds, the gate on macro F1 at 0.95, and a serving decision.
  expect(started.report.status).toBe('SUCCEEDED');
  expect(started.report.crossValidation.perFold).toHaveLength(3);
  expect(started.report.gate).toMatchObject({ metric: 'macroF1', threshold: 0.95, passed: true });
  expect(started.report.serving.decision).toBe('create');
});
