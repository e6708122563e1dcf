/**
 * `npm start` end to end on a dataset of our own whose accuracy (0.75) is below the default gate (0.9): with the
 * default it fails, with `--gate-threshold 0.7` it passes; its --json summary has the shape src/artifacts/summary.ts
 * describes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunSummarySchema } from '../../src/artifacts/summary';
import { program } from '../../cli/start/main';
import { runLocal, type LocalRunOptions } from '../../cli/start/runLocal';

const ROOT = path.resolve(__dirname, '../..');
const FRUIT = path.join(ROOT, 'test/fixtures/datasets/fruit-classes.csv');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'knn-npm-start-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The options exactly as `npm start -- …args` parses them. */
const options = (...args: string[]) =>
  program()
    .parse(
      [
        '--data',
        FRUIT,
        '--label',
        'fruit kind',
        '--k',
        '3',
        '--seed',
        '5',
        '--test-fraction',
        '0.3',
        '--dir',
        dir,
        ...args,
      ],
      {
        from: 'user',
      },
    )
    .opts<LocalRunOptions>();

test('the default gate (accuracy ≥ 0.9) fails the run; --gate-threshold 0.7 passes the same run', async () => {
  const lines: string[] = [];
  const failed = await runLocal(options(), () => undefined);
  expect(failed.status).toBe('FAILED');
  expect(failed.error).toBe('QualityGateNotMet');
  expect(failed.gate).toMatchObject({ metric: 'accuracy', threshold: 0.9, value: 0.75, passed: false });

  const passed = await runLocal(options('--gate-threshold', '0.7'), (line) => lines.push(line));
  expect(passed.status).toBe('SUCCEEDED');
  expect(passed.error).toBeUndefined();
  expect(passed.gate).toMatchObject({ metric: 'accuracy', threshold: 0.7, value: 0.75, passed: true });
  expect(passed.leftovers).toEqual({ endpoints: [], endpointConfigs: [], models: [] });
  expect(lines.join('\n')).toContain('Quality gate passed: accuracy 0.75 is at least 0.7.');
  expect(RunSummarySchema.parse(passed)).toEqual(passed);
  expect(RunSummarySchema.parse(failed)).toEqual(failed);
});

test('--gate-metric picks the metric the gate checks', async () => {
  const summary = await runLocal(options('--gate-metric', 'macroF1', '--gate-threshold', '0.5'), () => undefined);
  expect(summary.status).toBe('SUCCEEDED');
  expect(summary.gate).toMatchObject({ metric: 'macroF1', threshold: 0.5, passed: true });
  expect(summary.metrics).toMatchObject({ macroF1: summary.gate?.value });
});
