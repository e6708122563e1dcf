import {
  ArtifactError,
  ARTIFACT_NAMES,
  decodeArtifact,
  encodeArtifact,
  parseArtifact,
  type Artifact,
  type CrossValidationSummary,
  type EvaluationMetrics,
  type GateResult,
  type Manifest,
  type Promotion,
  type PruneReport,
} from '../../../src/artifacts';
import type { PruneReport as DomainPruneReport } from '../../../src/aws/serving';
import type { CrossValidationSummary as DomainCrossValidationSummary } from '../../../src/domain/crossValidation';
import type { EvaluationMetrics as DomainMetrics, GateResult as DomainGate } from '../../../src/domain/evaluation';
import type { Promotion as DomainPromotion } from '../../../src/domain/promotion';
import { PipelineError } from '../../../src/errors';
import { exampleArtifacts } from './examples';

// Compile-time: what the domain code computes is what the schemas describe (checked by `npm run typecheck`).
export const metricsFit = (metrics: DomainMetrics): EvaluationMetrics => metrics;
export const gateFits = (gate: DomainGate): GateResult => gate;
export const promotionFits = (promotion: DomainPromotion): Promotion => promotion;
export const crossValidationFits = (summary: DomainCrossValidationSummary): CrossValidationSummary => summary;
export const pruneReportFits = (report: DomainPruneReport): PruneReport => report;

const WHERE = 's3://knn-pipeline-dev-data/runs/run-1/x.json';

function problemsOf(fn: () => unknown): { message: string; problems: string[] } {
  try {
    fn();
  } catch (error) {
    if (error instanceof ArtifactError) return { message: error.message, problems: error.problems };
    throw error;
  }
  throw new Error('expected an ArtifactError');
}

describe.each(ARTIFACT_NAMES)('%s', (name) => {
  test('an artifact built by the domain code survives encode → decode unchanged', () => {
    const artifact = exampleArtifacts()[name];
    expect(decodeArtifact(name, encodeArtifact(name, artifact as never, WHERE), WHERE)).toEqual(artifact);
  });

  test('an unknown field is refused, named by its path', () => {
    const artifact = { ...exampleArtifacts()[name], surprise: 1 };
    expect(problemsOf(() => parseArtifact(name, artifact, WHERE)).problems).toEqual([
      expect.stringMatching(/^\(root\): Unrecognized key: "surprise"/),
    ]);
  });
});

test('the text is what putJson always wrote, field order included; claim.json stays on one line', () => {
  const { manifest, claim } = exampleArtifacts();
  // Field order as a writer built it, not as the schema lists it.
  const { preparedAt, ...rest } = manifest;
  const reordered = { preparedAt, ...rest };
  expect(encodeArtifact('manifest', reordered, WHERE)).toBe(`${JSON.stringify(reordered, null, 2)}\n`);
  expect(encodeArtifact('claim', claim, WHERE)).toBe(JSON.stringify(claim));
});

test('optional fields left undefined are accepted and left out of the text, as JSON.stringify does', () => {
  const { serving } = exampleArtifacts();
  const text = encodeArtifact('serving', { ...serving, previousConfig: undefined }, WHERE);
  expect(text).not.toContain('previousConfig');
});

test('a malformed manifest is refused with the artifact, its location and every bad field', () => {
  const manifest: Record<string, unknown> = { ...exampleArtifacts().manifest };
  manifest.source = { ...(manifest.source as Manifest['source']), size: '4551' };
  manifest.predictorType = 'clustering';
  delete manifest.rowCount;

  const { message, problems } = problemsOf(() => parseArtifact('manifest', manifest, WHERE));

  expect(message).toMatch(/^manifest artifact s3:\/\/knn-pipeline-dev-data\/runs\/run-1\/x\.json is malformed: /);
  expect(problems).toEqual([
    'source.size: Invalid input: expected number, received string',
    'predictorType: Invalid option: expected one of "classifier"|"regressor"',
    'rowCount: Invalid input: expected number, received undefined',
  ]);
});

test('the metrics of a classifier must be complete: a missing confusion matrix is an error', () => {
  const metrics = exampleArtifacts().metrics;
  const broken = { ...metrics, metrics: { ...metrics.metrics, confusionMatrix: undefined } };
  expect(problemsOf(() => parseArtifact('metrics', broken, WHERE)).message).toMatch(/^metrics artifact .* metrics: /);
});

test('a split with a fractional row count or a test fraction of 1 is refused', () => {
  const split = exampleArtifacts().split;
  expect(
    problemsOf(() => parseArtifact('split', { ...split, testFraction: 1, trainRows: 0.5 }, WHERE)).problems,
  ).toEqual([
    'testFraction: Too big: expected number to be <1',
    'trainRows: Invalid input: expected int, received number',
  ]);
});

test('text that is not JSON is reported as such, naming the artifact, with the parser error as cause', () => {
  expect(() => decodeArtifact('serving', '{"runId": ', WHERE)).toThrow(
    /^serving artifact s3:\/\/\S+ is malformed: not JSON \(/,
  );
  expect(() => decodeArtifact('serving', '{"runId": ', WHERE)).toThrow(
    expect.objectContaining({ cause: expect.any(SyntaxError) }),
  );
});

test('the error is a PipelineError named ArtifactError (the name Step Functions and logs match)', () => {
  const error = new ArtifactError('split', WHERE, ['rowCount: bad']);
  expect(error).toBeInstanceOf(PipelineError);
  expect(error.name).toBe('ArtifactError');
  expect(error).toMatchObject({ artifact: 'split', location: WHERE, problems: ['rowCount: bad'] });
});

test('writing checks too: a value that does not fit is never encoded', () => {
  const claim = { ...exampleArtifacts().claim, claimedAt: 'yesterday' } as Artifact<'claim'>;
  expect(() => encodeArtifact('claim', claim, WHERE)).toThrow(/claim artifact .* claimedAt: Invalid ISO datetime/);
});
