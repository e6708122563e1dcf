/**
 * Untrusted input — object keys of S3 events, console input, execution names — can never lead the pipeline to write
 * outside its run's prefix, and always gives valid SageMaker names (src/domain/naming.ts, src/domain/runConfig.ts).
 *
 * What is allowed to vary: the dataset key is read as given (S3 keys are literal, see s3Keys.test.ts), but it must
 * be under the raw prefix of the data bucket. Everything written — run prefix, channel and artifact URIs, SageMaker
 * names — derives from the run id, which is a slug.
 */
import { candidateKeys } from '../../../src/domain/objectKeys';
import {
  NAME_PREFIX_MAX,
  RUN_ID_MAX,
  SAGEMAKER_NAME_MAX,
  SAGEMAKER_NAME_PATTERN,
  foldLayout,
  foldTrainingJobName,
  runIdFrom,
  sageMakerNames,
  servingConfigName,
  servingEndpointName,
  slug,
} from '../../../src/domain/naming';
import { InputValidationError, MAX_FOLDS, resolveRunConfig, type RunConfig } from '../../../src/domain/runConfig';
import { sageMakerRequests, trainingJobRequest } from '../../../src/domain/sageMakerRequests';
import { problemsOf, s3Event, testStageDefaults } from '../../support/stage';

const defaults = testStageDefaults();
const BUCKET = defaults.dataBucket;
const SAFE_RUN_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Hostile and odd keys that still start with the raw prefix: accepted, and read literally. */
const RAW_KEYS = [
  'raw/iris.csv',
  'raw/%2e%2e/runs/victim/claim.json',
  'raw/..%2F..%2Fruns%2Fvictim%2Fclaim.json',
  'raw/%252e%252e/double-encoded.csv',
  'raw//double-slash.csv',
  'raw/...csv',
  'raw/.csv',
  'raw/',
  'raw/a+b%20c.csv',
  `raw/${'a'.repeat(1000)}.csv`,
  `raw/${'données/'.repeat(60)}x.csv`,
  'raw/ünïcödé/日本語 データ.csv',
  'raw/emoji 🌸🚀.csv',
  'raw/ﬁle ＦＵＬＬＷＩＤＴＨ.csv',
  'raw/\u202Egnp.exe.csv',
  'raw/new\nline\r.csv',
  'raw/nul\u0000byte.csv',
  'raw/back\\slash\\..\\runs.csv',
  'raw/CON.csv',
  'raw/-leading-hyphen-.csv',
  'raw/--.csv',
];

/** Keys outside the raw prefix, or with "." / ".." segments that path-mapping tools would resolve: refused. */
const NON_RAW_KEYS = [
  'raw/../runs/victim/prepared/dataset.csv',
  'raw/../../etc/passwd',
  'raw/x.csv/../../../runs/victim/claim.json',
  'raw/./x.csv',
  'raw/a/..',
  '../raw/x.csv',
  '/raw/x.csv',
  '//raw/x.csv',
  './raw/x.csv',
  'runs/victim/claim.json',
  'runs/victim/prepared/dataset.csv',
  'RAW/x.csv',
  'Raw/x.csv',
  'raw',
  'rawdata/x.csv',
  'raw\\x.csv',
  ' raw/x.csv',
  '%72aw/x.csv',
  'raw%2Fx.csv',
  '\u0000raw/x.csv',
  'ｒａｗ/x.csv',
];

/** Execution names (console and schedule runs take their run id from it). */
const EXECUTION_NAMES = [
  'run-1',
  '7f9c0e1a-0b6d-4f6f-9a43-3c1f6d2f8e11',
  '../../runs/victim',
  '..',
  '.',
  '/absolute/path',
  'runs/victim/claim.json',
  '%2e%2e%2fvictim',
  'UPPER-case',
  'a'.repeat(80),
  '-'.repeat(80),
  '---',
  '',
  ' ',
  'x',
  'serving',
  'victim-endpoint',
  'Nightly Retrain — größer/besser ✓',
  '日本語の実行',
  '🌸🚀',
  'new\nline',
  'nul\u0000',
  'ends-with-',
  '-starts-with',
  'a--b',
];

function allNames(run: RunConfig): string[] {
  return [
    ...Object.values(run.names),
    ...Array.from({ length: MAX_FOLDS }, (_, i) => foldTrainingJobName(run.names, i + 1)),
    run.serve.endpointName,
    run.serve.endpointConfigName,
  ];
}

/** Everything a run writes or names derives from its run id, inside `runs/<runId>/`, and is a valid SageMaker name. */
function expectContained(run: RunConfig): void {
  const where = { runId: run.runId };
  expect({ ...where, safe: SAFE_RUN_ID.test(run.runId), short: run.runId.length <= RUN_ID_MAX }).toEqual({
    ...where,
    safe: true,
    short: true,
  });
  const root = `runs/${run.runId}/`;
  const keys = [
    ...Object.values(run.keys),
    ...Array.from({ length: MAX_FOLDS }, (_, i) => Object.values(foldLayout(run.keys.root, i + 1))).flat(),
  ];
  for (const key of keys) {
    expect({ key, inRun: key.startsWith(root) }).toEqual({ key, inRun: true });
    // Nothing a path-normalising tool could resolve elsewhere, nothing to decode.
    expect({
      key,
      plain:
        /^[a-z0-9./_-]+$/.test(key) &&
        !key.split('/').some((segment) => segment === '.' || segment === '..') &&
        !key.includes('//'),
    }).toEqual({
      key,
      plain: true,
    });
  }
  for (const uri of Object.values(run.uris)) expect(uri.startsWith(`s3://${BUCKET}/${root}`)).toBe(true);
  expect(run.bucket).toBe(BUCKET);

  for (const name of allNames(run)) {
    expect({
      name,
      valid: SAGEMAKER_NAME_PATTERN.test(name),
      length: name.length <= SAGEMAKER_NAME_MAX,
      ours: name.startsWith(`${defaults.namePrefix}-`),
    }).toEqual({
      name,
      valid: true,
      length: true,
      ours: true,
    });
    // SageMaker ARNs carry lower-cased names; the IAM patterns are lower-case.
    expect(name).toBe(name.toLowerCase());
  }

  // The SageMaker requests of every evaluation mode read and write only under the run's prefix.
  run.training.hyperParameters.feature_dim = '4';
  const evaluations: RunConfig['evaluation'][] = [
    { mode: 'endpoint' },
    { mode: 'serverless', serverless: { memorySizeInMB: 2048, maxConcurrency: 4 } },
    { mode: 'batchTransform', transform: { instanceType: 'ml.m5.large', instanceCount: 1 } },
  ];
  const requests = evaluations.map((evaluation) => sageMakerRequests({ ...run, evaluation }));
  expect(requests[2].transformJob).toMatchObject({ TransformJobName: run.names.transformJob });
  const uris = JSON.stringify(requests).match(/s3:\/\/[^"]*/g) ?? [];
  expect(uris.length).toBeGreaterThan(0);
  for (const uri of uris)
    expect({ uri, inRun: uri.startsWith(`s3://${BUCKET}/${root}`) }).toEqual({ uri, inRun: true });
  const fold = trainingJobRequest(run, {
    trainingJobName: foldTrainingJobName(run.names, MAX_FOLDS),
    trainUri: 'x',
    testUri: 'x',
    outputUri: 'x',
  });
  expect(fold.TrainingJobName).toMatch(SAGEMAKER_NAME_PATTERN);
}

describe('S3 events (EventBridge Object Created): the key is untrusted', () => {
  test.each(RAW_KEYS.map((key) => [JSON.stringify(key).slice(0, 70), key]))(
    'accepted, contained: %s',
    (_label, key) => {
      const run = resolveRunConfig(s3Event(key), { name: 'exec-1' }, defaults);
      expect(run.dataset).toMatchObject({ bucket: BUCKET, key });
      expect(run.dataset.key.startsWith(defaults.rawPrefix)).toBe(true);
      // Prepare also tries the form-decoded reading of the key: it stays under the raw prefix too.
      for (const candidate of candidateKeys(key))
        expect({ candidate, raw: candidate.startsWith(defaults.rawPrefix) }).toEqual({ candidate, raw: true });
      expectContained(run);
    },
  );

  test.each(NON_RAW_KEYS.map((key) => [JSON.stringify(key), key]))('refused before any read: %s', (_label, key) => {
    expect(problemsOf(() => resolveRunConfig(s3Event(key), { name: 'exec-1' }, defaults)).join()).toMatch(
      /dataset\.key: (must be under the raw prefix|"\." and "\.\." path segments are not allowed)/,
    );
  });

  test('an object of another bucket is refused', () => {
    const event = s3Event('raw/iris.csv');
    event.detail.bucket.name = 'someone-elses-bucket';
    expect(problemsOf(() => resolveRunConfig(event, { name: 'exec-1' }, defaults)).join()).toMatch(/dataset\.bucket/);
  });

  test('an event that is not Object Created, or malformed, is refused', () => {
    expect(() =>
      resolveRunConfig({ ...s3Event('raw/x.csv'), 'detail-type': 'Object Deleted' }, { name: 'e' }, defaults),
    ).toThrow(InputValidationError);
    const noKey: { detail: { object: { key?: unknown } } } = s3Event('raw/x.csv');
    delete noKey.detail.object.key;
    expect(() => resolveRunConfig(noKey, { name: 'e' }, defaults)).toThrow(InputValidationError);
    const numericKey: { detail: { object: { key?: unknown } } } = s3Event('raw/x.csv');
    numericKey.detail.object.key = 42;
    expect(() => resolveRunConfig(numericKey, { name: 'e' }, defaults)).toThrow(InputValidationError);
  });

  test('distinct objects never share a run (nor its prefix and names), even when their file names slug alike', () => {
    const keys = [
      'raw/My Data.csv',
      'raw/my-data.csv',
      'raw/my_data.csv',
      'raw/MY DATA.csv',
      'raw/sub/my-data.csv',
      'raw/my-data.tsv',
      'raw/ｍｙ-data.csv',
    ];
    const runIds = keys.map((key) => resolveRunConfig(s3Event(key), { name: 'e' }, defaults).runId);
    expect(new Set(runIds).size).toBe(keys.length);
    // Another version of the same key is another run; a redelivery of the same version is the same run.
    const v1 = resolveRunConfig(s3Event('raw/x.csv', { 'version-id': 'v1' }), { name: 'a' }, defaults).runId;
    const v2 = resolveRunConfig(s3Event('raw/x.csv', { 'version-id': 'v2' }), { name: 'b' }, defaults).runId;
    expect(v1).not.toBe(v2);
    expect(resolveRunConfig(s3Event('raw/x.csv', { 'version-id': 'v1' }), { name: 'c' }, defaults).runId).toBe(v1);
  });
});

describe('console input: dataset and execution name are untrusted', () => {
  test.each(RAW_KEYS.filter((key) => key.length <= 1024).map((key) => [JSON.stringify(key).slice(0, 70), key]))(
    'dataset.key accepted, contained: %s',
    (_label, key) => {
      const run = resolveRunConfig({ dataset: { key } }, { name: 'console-run' }, defaults);
      expect(run.dataset.key).toBe(key);
      expectContained(run);
    },
  );

  test.each(NON_RAW_KEYS.map((key) => [JSON.stringify(key), key]))('dataset.key refused: %s', (_label, key) => {
    expect(problemsOf(() => resolveRunConfig({ dataset: { key } }, { name: 'console-run' }, defaults)).join()).toMatch(
      /dataset\.key/,
    );
  });

  test('dataset.bucket must be the data bucket; an over-long key is refused', () => {
    expect(
      problemsOf(() =>
        resolveRunConfig({ dataset: { bucket: 'other-bucket', key: 'raw/x.csv' } }, { name: 'r' }, defaults),
      ).join(),
    ).toMatch(/dataset\.bucket/);
    expect(
      problemsOf(() =>
        resolveRunConfig({ dataset: { key: `raw/${'a'.repeat(1100)}` } }, { name: 'r' }, defaults),
      ).join(),
    ).toMatch(/dataset\.key/);
  });

  test.each(EXECUTION_NAMES.map((name) => [JSON.stringify(name).slice(0, 60), name]))(
    'execution name %s gives a contained run',
    (_label, name) => {
      expectContained(resolveRunConfig({}, { name }, defaults));
      expectContained(
        resolveRunConfig({ source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'x' }, { name }, defaults),
      );
    },
  );

  test('distinct execution names never share a run id', () => {
    const runIds = EXECUTION_NAMES.map((name) => runIdFrom(name));
    expect(new Set(runIds).size).toBe(EXECUTION_NAMES.length);
  });

  test('unknown fields (a __proto__ key included) and hostile types are refused, listing every problem', () => {
    const input = JSON.parse(
      '{"dataset": {"key": "raw/x.csv", "bucket": 1}, "training": {"instanceType": "ml.m5.large; rm -rf /"}, "__proto__": {"polluted": true}, "extra": 1}',
    );
    const problems = problemsOf(() => resolveRunConfig(input, { name: 'r' }, defaults));
    expect(problems.join('\n')).toMatch(/dataset\.bucket/);
    expect(problems.join('\n')).toMatch(/training\.instanceType/);
    expect(problems.join('\n')).toMatch(/unknown field/);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('naming', () => {
  test('a slug is lower-case letters, digits and single inner hyphens, for any input', () => {
    for (const text of [...EXECUTION_NAMES, ...RAW_KEYS]) {
      const s = slug(text);
      expect({ text, ok: s === '' || SAFE_RUN_ID.test(s) }).toEqual({ text, ok: true });
    }
  });

  test('run ids are never longer than RUN_ID_MAX and always valid, however long or odd the label', () => {
    for (const label of [
      'a'.repeat(10_000),
      '-'.repeat(500),
      'é'.repeat(300),
      '🌸'.repeat(300),
      `${'ab-'.repeat(50)}`,
      '',
    ]) {
      for (const suffix of [undefined, 'abcdef012345']) {
        const id = runIdFrom(label, suffix);
        expect({ label: label.slice(0, 10), id, ok: SAFE_RUN_ID.test(id) && id.length <= RUN_ID_MAX }).toEqual({
          label: label.slice(0, 10),
          id,
          ok: true,
        });
      }
    }
  });

  test('with the longest prefix and run id every name still fits 63 characters', () => {
    const prefix = 'p'.repeat(NAME_PREFIX_MAX);
    const names = sageMakerNames(prefix, 'r'.repeat(RUN_ID_MAX));
    for (const name of [
      ...Object.values(names),
      foldTrainingJobName(names, MAX_FOLDS),
      servingConfigName(names),
      servingEndpointName(prefix),
    ]) {
      expect({ name, ok: SAGEMAKER_NAME_PATTERN.test(name) && name.length <= SAGEMAKER_NAME_MAX }).toEqual({
        name,
        ok: true,
      });
    }
  });

  test('sageMakerNames refuses a run id or prefix that is not a valid name part', () => {
    for (const runId of ['', '../x', 'a/b', 'a_b', '-a', 'a-', 'r'.repeat(RUN_ID_MAX + 1), 'a\nb'])
      expect(() => sageMakerNames('knnp-dev', runId)).toThrow();
    for (const prefix of ['', 'p'.repeat(NAME_PREFIX_MAX + 1), 'a/b', '-p'])
      expect(() => sageMakerNames(prefix, 'run')).toThrow();
  });

  test("a run's endpoint is never the stable endpoint, and its configs and models keep their kind suffix", () => {
    // (A run named "serving" has the training job <prefix>-serving: another resource type, so no clash.)
    for (const name of EXECUTION_NAMES) {
      const run = resolveRunConfig({}, { name }, defaults);
      expect(run.names.endpoint).not.toBe(servingEndpointName(defaults.namePrefix));
      expect(run.names.endpoint.endsWith('-endpoint')).toBe(true);
      expect(run.names.endpointConfig.endsWith('-config')).toBe(true);
      expect(run.serve.endpointConfigName.endsWith('-serve')).toBe(true);
      expect(run.names.model.endsWith('-model')).toBe(true);
    }
  });

  // Run ids never contain "--", and fold jobs append "--f<n>": no run's job can be named like another's fold.
  test("fold training job names never equal another run's training job name", () => {
    const run = resolveRunConfig({}, { name: 'nightly' }, defaults);
    const other = resolveRunConfig({}, { name: 'nightly-f1' }, defaults);
    expect(foldTrainingJobName(run.names, 1)).not.toBe(other.names.trainingJob);
  });
});
