/**
 * The run options, defined once (cli/common/runOptions.ts): each flag lands on its execution-input path for
 * `knn-pipeline start` and on the matching stage parameter for `npm start`, with one help text in both programs.
 */
import { Command } from 'commander';
import {
  addRunOptions,
  consoleInput,
  hasRunOptions,
  RUN_OPTIONS,
  stageParams,
  type RunOptions,
} from '../../cli/common/runOptions';
import { program as npmStart } from '../../cli/start/main';
import { buildProgram } from '../../cli/knn-pipeline/program';
import { runLocal } from '../../cli/start/runLocal';

function parse(...args: string[]): RunOptions {
  const command = addRunOptions(new Command('t').exitOverride()).configureOutput({ writeErr: () => undefined });
  return command.parse(args, { from: 'user' }).opts<RunOptions>();
}

const CASES: [string[], string, unknown][] = [
  [['--label', 'fruit kind'], 'labelColumn', 'fruit kind'],
  [['--predictor-type', 'regressor'], 'predictorType', 'regressor'],
  [['--k', '5'], 'hyperparameters.k', 5],
  [['--sample-size', '5000'], 'hyperparameters.sample_size', 5000],
  [['--index-type', 'faiss.IVFFlat'], 'hyperparameters.index_type', 'faiss.IVFFlat'],
  [['--index-metric', 'COSINE'], 'hyperparameters.index_metric', 'COSINE'],
  [['--test-fraction', '0.2'], 'split.testFraction', 0.2],
  [['--seed', '7'], 'split.seed', 7],
  [['--folds', '3'], 'crossValidation.folds', 3],
  [['--max-queue-seconds', '3600'], 'capacity.maxQueueSeconds', 3600],
  [['--serve'], 'serve', true],
  [['--evaluation-mode', 'batchTransform'], 'evaluation.mode', 'batchTransform'],
  [['--serverless-memory', '3072'], 'evaluation.serverless.memorySizeInMB', 3072],
  [['--serverless-concurrency', '8'], 'evaluation.serverless.maxConcurrency', 8],
  [['--transform-instance-type', 'ml.c5.xlarge'], 'evaluation.transform.instanceType', 'ml.c5.xlarge'],
  [['--transform-instance-count', '2'], 'evaluation.transform.instanceCount', 2],
  [['--gate-metric', 'macroF1'], 'qualityGate.metric', 'macroF1'],
  [['--gate-threshold', '0.7'], 'qualityGate.threshold', 0.7],
  [['--scaling', 'minmax'], 'features.scaling', 'minmax'],
  [['--categorical', 'colour, region'], 'features.categorical', ['colour', 'region']],
  [['--pca', '0.95'], 'features.pca', 0.95],
  [['--drop', 'id'], 'features.drop', ['id']],
  [['--max-categorical-levels', '20'], 'features.maxCategoricalLevels', 20],
];

const at = (value: unknown, path: string) =>
  path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], value);

test.each(CASES)('%s sets %s of the console input', (args, path, expected) => {
  const input = consoleInput('raw/x.csv', parse(...args));
  expect(at(input, path)).toEqual(expected);
  // Nothing else is set: the stage defaults fill every other field.
  const leaves = JSON.stringify(input).match(/:(?!\{)/g)?.length;
  expect(leaves).toBe(2);
  expect(input.dataset).toEqual({ key: 'raw/x.csv' });
});

test('every option in the table is covered above (--tune by its own test below), each with its own input path', () => {
  expect(RUN_OPTIONS.map((o) => o.inputPath).sort()).toEqual([...CASES.map(([, path]) => path), 'tuning'].sort());
});

test('--tune sets the tuning section: Grid expands a range into its values, other strategies keep a range', () => {
  expect(consoleInput('raw/x.csv', parse('--tune', 'Grid:k=1..4,sample_size=500/1000,parallel=3'))).toEqual({
    dataset: { key: 'raw/x.csv' },
    tuning: {
      strategy: 'Grid',
      ranges: { k: { values: [1, 2, 3, 4] }, sample_size: { values: [500, 1000] } },
      maxParallelJobs: 3,
    },
  });
  expect(parse('--tune', 'random:k=1..50,jobs=20,runtime=1800,validation=0.3').tune).toEqual({
    strategy: 'Random',
    ranges: { k: { min: 1, max: 50 } },
    maxJobs: 20,
    maxRuntimeInSeconds: 1800,
    validationFraction: 0.3,
  });
  expect(stageParams(parse('--tune', 'Grid:k=1/3'))).toEqual({
    tuning: JSON.stringify({ strategy: 'Grid', ranges: { k: { values: [1, 3] } } }),
  });
  for (const bad of ['Annealing:k=1..3', 'Grid:k=1..40', 'Grid:q=1', 'Random:k=a..b', 'Grid:k'])
    expect(() => parse('--tune', bad)).toThrow(/--tune/);
});

test('all options together make one nested console input; no options, none', () => {
  const options = parse(...CASES.flatMap(([args]) => args));
  expect(consoleInput(undefined, options)).toEqual({
    labelColumn: 'fruit kind',
    predictorType: 'regressor',
    hyperparameters: { k: 5, sample_size: 5000, index_type: 'faiss.IVFFlat', index_metric: 'COSINE' },
    split: { testFraction: 0.2, seed: 7 },
    crossValidation: { folds: 3 },
    capacity: { maxQueueSeconds: 3600 },
    serve: true,
    evaluation: {
      mode: 'batchTransform',
      serverless: { memorySizeInMB: 3072, maxConcurrency: 8 },
      transform: { instanceType: 'ml.c5.xlarge', instanceCount: 2 },
    },
    qualityGate: { metric: 'macroF1', threshold: 0.7 },
    features: {
      scaling: 'minmax',
      categorical: ['colour', 'region'],
      pca: 0.95,
      drop: ['id'],
      maxCategoricalLevels: 20,
    },
  });
  expect(hasRunOptions(parse())).toBe(false);
  expect(consoleInput(undefined, parse())).toEqual({});
});

test('values are checked as the execution input schema checks them', () => {
  for (const args of [
    ['--k', '0'],
    ['--k', '2.5'],
    ['--folds', '1'],
    ['--folds', '21'],
    ['--test-fraction', '1'],
    ['--seed', '-1'],
    ['--gate-metric', 'f1'],
    ['--gate-threshold', 'high'],
    ['--index-type', 'faiss.HNSW'],
    ['--evaluation-mode', 'async'],
    ['--serverless-memory', '1500'],
    ['--serverless-memory', '8192'],
    ['--serverless-concurrency', '0'],
    ['--serverless-concurrency', '201'],
    ['--transform-instance-type', 'm5.large'],
    ['--transform-instance-count', '0'],
    ['--scaling', 'robust'],
    ['--pca', '1.5'],
    ['--pca', '0'],
    ['--drop', 'id,,name'],
  ]) {
    expect(() => parse(...args)).toThrow();
  }
});

test('feature options become the FEATURE_* stage parameters for npm start', () => {
  expect(
    stageParams(parse('--scaling', 'standard', '--categorical', 'auto', '--pca', '3', '--drop', 'id,name')),
  ).toEqual({
    featureScaling: 'standard',
    featureCategorical: 'auto',
    featurePca: '3',
    featureDrop: 'id,name',
  });
});

test('npm start passes the options as the local stage parameters; the gate goes to the run’s predictor type', () => {
  expect(stageParams(parse('--k', '3', '--seed', '5', '--folds', '4', '--serve', '--gate-threshold', '0.7'))).toEqual({
    k: '3',
    splitSeed: '5',
    crossValidationFolds: '4',
    serve: 'true',
    classifierGateThreshold: '0.7',
  });
  expect(stageParams(parse('--predictor-type', 'regressor', '--gate-metric', 'rmse', '--gate-threshold', '2'))).toEqual(
    {
      predictorType: 'regressor',
      regressorGateMetric: 'rmse',
      regressorGateThreshold: '2',
    },
  );
  expect(stageParams(parse('--index-type', 'faiss.IVFFlat', '--index-metric', 'COSINE'))).toEqual({
    indexType: 'faiss.IVFFlat',
    indexMetric: 'COSINE',
  });
  expect(
    stageParams(
      parse(
        '--evaluation-mode',
        'serverless',
        '--serverless-memory',
        '1024',
        '--serverless-concurrency',
        '2',
        '--transform-instance-type',
        'ml.c5.xlarge',
        '--transform-instance-count',
        '3',
      ),
    ),
  ).toEqual({
    evaluationMode: 'serverless',
    serverlessMemorySizeInMB: '1024',
    serverlessMaxConcurrency: '2',
    transformInstanceType: 'ml.c5.xlarge',
    transformInstanceCount: '3',
  });
});

/** The help lines of the run options a command shows, `--flag <arg>  help [path]`, whitespace collapsed. */
function runOptionHelp(command: Command): string[] {
  const flags = new Set(RUN_OPTIONS.map((o) => o.flags.split(' ')[0]));
  return command
    .helpInformation()
    .replace(/\n {20,}/g, ' ')
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => flags.has(line.split(' ')[0]));
}

test('both programs show the same run options with the same help; npm start those a stage parameter carries', () => {
  const knnStart = buildProgram({ out: () => undefined, err: () => undefined }, { code: 0 }).commands.find(
    (c) => c.name() === 'start',
  )!;
  const startHelp = runOptionHelp(knnStart);
  const npmHelp = runOptionHelp(npmStart());
  expect(startHelp).toHaveLength(RUN_OPTIONS.length);
  expect(npmHelp).toEqual(startHelp);
  for (const flag of ['--folds', '--serve', '--gate-metric', '--gate-threshold', '--index-type', '--index-metric']) {
    expect(npmHelp.some((line) => line.startsWith(flag))).toBe(true);
  }
  expect(startHelp.find((line) => line.startsWith('--k'))).toMatch(/\[hyperparameters\.k\]$/);
});

test('npm start refuses options its stage would refuse, before the local cloud starts (serverless with --serve)', async () => {
  const dir = '/nonexistent/never-created';
  const options = npmStart().parse(['--evaluation-mode', 'serverless', '--serve', '--dir', dir], { from: 'user' });
  await expect(runLocal({ ...options.opts(), data: 'x.csv', dir }, () => undefined)).rejects.toThrow(
    /^EVALUATION_MODE=serverless with SERVE=true: a serverless endpoint cannot be combined with serving mode/,
  );
});
