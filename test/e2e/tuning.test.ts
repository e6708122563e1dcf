/**
 * Hyperparameter tuning through the local cloud (one cloud, two runs): Grid over k ∈ {1…15} on Iris and on
 * scikit-learn's wine data. Every trial's validation accuracy equals scikit-learn's KNeighborsClassifier on the same
 * validation split of the training rows, the chosen k is the best (a tie goes to the smallest k), the final model
 * trains with it, and no held-out test row reaches a tuning job. Needs Debian's python3-sklearn (skipped otherwise).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DescribeHyperParameterTuningJobCommand, DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import type { ExecutionRecord, HistoryEvent } from '../../local/stepfunctions/runner';
import { runFromHistory } from '../support/localCloud';
import { LocalCloud } from '../../local/cloud';
import { runOnCloud } from '../../cli/start/runLocal';
import type { RunSummary } from '../../src/artifacts/summary';
import type { Trials } from '../../src/artifacts';
import { trainTestRows, tuningRows } from '../../src/domain/split';
import { parseTuneOption } from '../../src/domain/tuning';
import { hasPythonModules, runPython } from '../support/python';

const ROOT = path.resolve(__dirname, '../..');
const available = hasPythonModules('sklearn', 'numpy');
if (!available)
  console.warn('tuning.test.ts skipped: /usr/bin/python3 has no scikit-learn (apt-get install python3-sklearn)');
const DATASETS = ['iris', 'wine'] as const;
type Dataset = (typeof DATASETS)[number];

interface Expected {
  /** scikit-learn's validation accuracy for k = 1…15. */
  scores: number[];
  testRows: number[];
  tuningTrainRows: number[];
  validationRows: number[];
}

let dir: string;
let cloud: LocalCloud | undefined;
const expected = {} as Record<Dataset, Expected>;
const runs = {} as Record<Dataset, RunSummary>;
/** The states each execution entered, by execution name. */
const entered = new Map<string, Set<string>>();

/** Both CSVs with the label last, named "label"; scikit-learn's scores on the same splits (validation f = 0.2). */
function prepareDatasets(): void {
  const result = JSON.parse(
    runPython(`
import csv, json
import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
out = {}
rows = list(csv.reader(open(${JSON.stringify(path.join(ROOT, 'data/iris.csv'))})))
iris = ([r[:-1] for r in rows[1:]], [r[-1] for r in rows[1:]], rows[0][:-1])
w = datasets.load_wine()
wine = ([[repr(float(v)) for v in x] for x in w.data], [str(w.target_names[t]) for t in w.target], list(w.feature_names))
for name, (features, labels, header) in (('iris', iris), ('wine', wine)):
    with open(${JSON.stringify(dir)} + '/' + name + '.csv', 'w', newline='') as f:
        out_csv = csv.writer(f)
        out_csv.writerow(header + ['label'])
        for x, y in zip(features, labels):
            out_csv.writerow(x + [y])
    X = np.array([[float(v) for v in x] for x in features])
    classes = sorted(set(labels))
    y = np.array([classes.index(l) for l in labels])
    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=0.25, shuffle=True, random_state=0)
    tuning_train, validation = train_test_split(train, test_size=0.2, shuffle=True, random_state=0)
    scores = [float(KNeighborsClassifier(n_neighbors=k, algorithm='brute').fit(X[tuning_train], y[tuning_train])
              .score(X[validation], y[validation])) for k in range(1, 16)]
    out[name] = {'scores': scores, 'testRows': test.tolist(), 'tuningTrainRows': tuning_train.tolist(),
                 'validationRows': validation.tolist()}
print(json.dumps(out))
`),
  ) as Record<Dataset, Expected>;
  Object.assign(expected, result);
}

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'knn-tuning-'));
  prepareDatasets();
  cloud = await LocalCloud.start({
    directory: path.join(dir, 'cloud'),
    params: {
      labelColumn: 'label',
      // Unscaled wine features give k-NN about 0.7: the gate is not what this file tests.
      classifierGateThreshold: '0',
      // All 15 jobs at once: on small data each local training job takes a fraction of a second.
      tuning: JSON.stringify(parseTuneOption('Grid:k=1..15,parallel=15')),
    },
    onEvent: (record: ExecutionRecord, event: HistoryEvent) => {
      if (event.type === 'StateEntered')
        entered.set(record.name, (entered.get(record.name) ?? new Set()).add(event.state!.name));
    },
  });
  for (const name of DATASETS)
    runs[name] = await runOnCloud(cloud, { data: path.join(dir, `${name}.csv`), dir: path.join(dir, name) }, () => {});
}, 240_000);
afterAll(async () => {
  await cloud?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const trialsOf = (name: Dataset): Trials =>
  JSON.parse(readFileSync(path.join(runs[name].artifacts.root.local!, 'tuning/trials.json'), 'utf8')) as Trials;

(available ? describe : describe.skip)('Grid tuning of k on Iris and wine', () => {
  test.each(DATASETS)(
    '%s: every trial scores as scikit-learn on the validation split; the best k (ties: smallest) trains the final model',
    (name) => {
      const run = runs[name];
      expect([run.status, run.error, run.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
      expect(run.states.map((s: { state: string }) => s.state)).toEqual(
        expect.arrayContaining(['Tune', 'RecordTuning', 'Train', 'Evaluate', 'CleanUp']),
      );
      const trials = trialsOf(name);
      expect(trials.strategy).toBe('Grid');
      expect(trials.objective).toEqual({ type: 'Maximize', metricName: 'test:accuracy' });
      expect(trials.trials).toHaveLength(15);
      // SageMaker names the jobs <tuning job>-NNN-<8 hex>; the tuning job's name fits 32 characters.
      expect(trials.tuningJobName.length).toBeLessThanOrEqual(32);
      trials.trials.forEach((trial) =>
        expect(trial.trainingJobName).toMatch(new RegExp(`^${trials.tuningJobName}-\\d{3}-[0-9a-f]{8}$`)),
      );
      const byK = new Map(trials.trials.map((trial) => [Number(trial.hyperParameters.k), trial]));
      expect([...byK.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expected[name].scores.forEach((score, i) => expect(byK.get(i + 1)!.objective).toBeCloseTo(score, 12));

      const best = Math.max(...expected[name].scores);
      const bestK = expected[name].scores.indexOf(best) + 1; // indexOf: the smallest k among equals
      const chosen = trials.trials.filter((trial) => trial.chosen);
      expect(chosen.map((trial) => trial.hyperParameters.k)).toEqual([String(bestK)]);
      expect(trials.chosen).toBe(chosen[0].trainingJobName);
      // The final training job (all training rows) ran with the chosen k.
      expect(run.trainingLog.some((line) => line.includes(`"k":"${bestK}"`))).toBe(true);
      expect(run.leftovers).toEqual({ endpoints: [], endpointConfigs: [], models: [] });
    },
  );

  test('Iris has ties at the best accuracy, and the smallest of the tied k is chosen', () => {
    const scores = expected.iris.scores;
    const best = Math.max(...scores);
    expect(scores.filter((score) => score === best).length).toBeGreaterThan(1);
    expect(trialsOf('iris').trials.find((trial) => trial.chosen)!.hyperParameters.k).toBe(
      String(scores.indexOf(best) + 1),
    );
  });

  test.each(DATASETS)(
    "%s: the tuning jobs' channels hold exactly the validation split of the training rows, disjoint from the test channel",
    async (name) => {
      const root = runs[name].artifacts.root.local!;
      const features = readFileSync(path.join(root, 'prepared/features.csv'), 'utf8').trimEnd().split('\n');
      const labels = new Float64Array(Uint8Array.from(readFileSync(path.join(root, 'prepared/labels.f64'))).buffer);
      const lineOf = (row: number) => `${labels[row]},${features[row]}`;
      const linesOf = (rows: ArrayLike<number>) => Array.from(rows, lineOf);
      const read = (key: string) => readFileSync(path.join(root, key), 'utf8').trimEnd().split('\n');
      const testChannel = read('input/test/test.csv');

      // Our rows are scikit-learn's: train_test_split of the rows, then of the training rows in channel order.
      const split = trainTestRows(features.length, { testFraction: 0.25, seed: 0 });
      const tuning = tuningRows(split.train, 0.2, 0);
      expect(Array.from(split.test)).toEqual(expected[name].testRows);
      expect(Array.from(tuning.train)).toEqual(expected[name].tuningTrainRows);
      expect(Array.from(tuning.validation)).toEqual(expected[name].validationRows);
      const testRows = new Set(split.test);
      expect([...tuning.train, ...tuning.validation].filter((row) => testRows.has(row))).toEqual([]);
      expect(testChannel).toEqual(linesOf(split.test));

      // What every tuning job read: its channels' objects, as its DescribeTrainingJob names them.
      const run = runs[name];
      const prefix = run.artifacts.root.s3;
      for (const trial of trialsOf(name).trials) {
        const job = await cloud!.sageMakerClient.send(
          new DescribeTrainingJobCommand({ TrainingJobName: trial.trainingJobName }),
        );
        const channels = Object.fromEntries(
          (job.InputDataConfig ?? []).map((c) => [c.ChannelName!, c.DataSource!.S3DataSource!.S3Uri!]),
        );
        expect(Object.keys(channels).sort()).toEqual(['test', 'train']);
        const contents = (uri: string) => {
          expect(uri.startsWith(prefix)).toBe(true);
          const folder = uri.slice(prefix.length).replace(/\/$/, '');
          return readdirSync(path.join(root, folder)).flatMap((file) => read(`${folder}/${file}`));
        };
        expect(contents(channels.train)).toEqual(linesOf(tuning.train));
        expect(contents(channels.test)).toEqual(linesOf(tuning.validation));
      }
      if (name === 'wine') {
        // Wine has no duplicate rows, so disjoint rows mean disjoint lines.
        const seen = new Set(testChannel);
        expect(read('input/tuning/train/train.csv').filter((line) => seen.has(line))).toEqual([]);
        expect(read('input/tuning/validation/validation.csv').filter((line) => seen.has(line))).toEqual([]);
      }
    },
  );

  test('stopped while tuning: ABORTED, and the tuning job and its training jobs are stopped', async () => {
    // One job at a time, so the tuning job is still running when the execution is stopped.
    const execution = cloud!.startExecution({
      dataset: { key: 'raw/iris.csv' },
      tuning: { strategy: 'Grid', ranges: { k: { values: [1, 2, 3, 4, 5, 6, 7, 8] } }, maxParallelJobs: 1 },
    });
    const deadline = Date.now() + 60_000;
    while (!entered.get(execution.record.name)?.has('Tune') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    execution.stop('UserStopped', 'stopped by the test');
    const record = await execution.done;
    expect(record.status).toBe('ABORTED');
    const janitor = cloud!.janitorRuns.find((run) => run.executionName === record.name);
    // Step Functions stops a .sync job when its execution is stopped; the janitor stops it if it still runs.
    expect(janitor?.result).toMatchObject({ cleaned: true });
    const deleted = (janitor?.result as { deleted?: { tuningJob?: string } } | undefined)?.deleted;
    expect(['stopped', 'not-running']).toContain(deleted?.tuningJob);
    const name = runFromHistory(record)!.names.tuningJob;
    const tuning = await cloud!.sageMakerClient.send(
      new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: name }),
    );
    expect(tuning.HyperParameterTuningJobStatus).toBe('Stopped');
    // Its training jobs: none still running, and not all eight were ever launched.
    const counters = tuning.TrainingJobStatusCounters!;
    expect(counters.InProgress).toBe(0);
    expect(counters.Completed! + counters.Stopped! + counters.NonRetryableError!).toBeLessThan(8);
  }, 90_000);
});
