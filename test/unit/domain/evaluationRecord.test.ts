import type { GateResult } from '../../../src/domain/evaluation';
import {
  canMeasureChampion,
  crossValidationSummary,
  evaluationResult,
  headlineOf,
  judgeChampion,
  metricsRecord,
  needsChampion,
  type EvaluationFacts,
} from '../../../src/domain/evaluationRecord';
import { computeMetrics } from '../../../src/domain/evaluation';
import { resolveRunConfig } from '../../../src/domain/runConfig';
import { testStageDefaults } from '../../support/stage';
import { MetricsSchema } from '../../../src/artifacts';

const serving = resolveRunConfig({ serve: true }, { name: 'run-5' }, testStageDefaults());
const labels = [0, 1, 1, 0];
const test4 = { labels, classes: ['cat', 'dog'] };
const gate = (value: number, passed = true): GateResult => ({
  metric: 'accuracy',
  threshold: 0.9,
  direction: 'min',
  value,
  passed,
  message: passed ? 'passed' : 'not met',
});

test('the champion is asked about only in serving mode after the gate passed, and measured only InService', () => {
  expect(needsChampion(serving, gate(1))).toBe(true);
  expect(needsChampion(serving, gate(0.5, false))).toBe(false);
  expect(needsChampion({ serve: { ...serving.serve, enabled: false } }, gate(1))).toBe(false);
  expect(canMeasureChampion({ status: 'InService' })).toBe(true);
  expect(canMeasureChampion({ status: 'Updating' })).toBe(false);
  expect(canMeasureChampion(undefined)).toBe(false);
});

test('a champion measured on the same rows decides by the gate metric: worse keeps it, equal promotes', () => {
  const stable = { status: 'InService', configName: 'knnp-dev--old-serve' };
  const measured = (predicted: number[]) => computeMetrics('classifier', labels, predicted, test4.classes);
  const worse = judgeChampion(serving, gate(1), stable, measured([0, 1, 0, 0]));
  expect(worse.championMetrics).toMatchObject({ accuracy: 0.75 });
  expect(worse.promotion).toMatchObject({ decision: 'promote', champion: 0.75, previousConfig: 'knnp-dev--old-serve' });
  const better = judgeChampion(serving, gate(0.75), stable, measured(labels));
  expect(better.promotion).toMatchObject({ decision: 'keep', candidate: 0.75, champion: 1 });
});

test('without a stable endpoint the first model creates it; unmeasured champions are kept', () => {
  const first = judgeChampion(serving, gate(1), undefined, undefined);
  expect(first).toEqual({ promotion: expect.objectContaining({ decision: 'create', champion: null }) });
  expect(judgeChampion(serving, gate(1), { status: 'Updating' }, undefined).promotion.decision).toBe('keep');
});

test('metrics.json and the state output carry the same gate and promotion, nulls where nothing ran', () => {
  const metrics = computeMetrics('classifier', labels, [0, 1, 1, 1], test4.classes);
  const judgement = judgeChampion(serving, gate(0.75, false), undefined, undefined);
  const facts: EvaluationFacts = {
    run: serving,
    manifest: { source: { bucket: 'b', key: 'raw/x.csv', uri: 's3://b/raw/x.csv', size: 120 }, classes: test4.classes },
    testRows: 4,
    invocations: 1,
    metrics,
    gate: gate(0.75, false),
    crossValidation: crossValidationSummary(serving, []),
    judgement,
    training: undefined,
    evaluatedAt: '2026-01-01T00:00:00.000Z',
  };
  expect(metricsRecord(facts)).toEqual({
    runId: 'run-5',
    predictorType: 'classifier',
    dataset: { bucket: 'b', key: 'raw/x.csv', uri: 's3://b/raw/x.csv', size: 120 },
    endpoint: serving.names.endpoint,
    evaluationMode: 'endpoint',
    testRows: 4,
    invocations: 1,
    classes: ['cat', 'dog'],
    metrics,
    gate: facts.gate,
    crossValidation: null,
    promotion: expect.objectContaining({ decision: 'gate-failed' }),
    championMetrics: null,
    training: null,
    evaluatedAt: '2026-01-01T00:00:00.000Z',
  });
  const result = evaluationResult(facts, { metricsUri: 's3://m', predictionsUri: 's3://p' });
  expect(result).toEqual({
    testRows: 4,
    invocations: 1,
    headline: { accuracy: 0.75, macroF1: (metrics as { macroF1: number }).macroF1 },
    gate: facts.gate,
    promotion: judgement.promotion,
    metricsUri: 's3://m',
    predictionsUri: 's3://p',
  });
  expect('crossValidation' in result).toBe(false);
});

test('with a batch transform metrics.json names the transform job, not an endpoint', () => {
  const batch = resolveRunConfig({ evaluation: { mode: 'batchTransform' } }, { name: 'run-6' }, testStageDefaults());
  const metrics = computeMetrics('classifier', labels, labels, test4.classes);
  const record = metricsRecord({
    run: batch,
    manifest: { source: { bucket: 'b', key: 'raw/x.csv', uri: 's3://b/raw/x.csv', size: 120 }, classes: test4.classes },
    testRows: 4,
    invocations: 0,
    metrics,
    gate: gate(1),
    crossValidation: undefined,
    judgement: judgeChampion(batch, gate(1), undefined, undefined),
    training: undefined,
    evaluatedAt: '2026-01-01T00:00:00.000Z',
  });
  expect(record).toMatchObject({
    endpoint: null,
    evaluationMode: 'batchTransform',
    transformJob: 'knnp-dev--run-6-batch',
    invocations: 0,
  });
  expect(MetricsSchema.safeParse(record).success).toBe(true);
});

test('the headline is accuracy and macro F1 for a classifier, the errors for a regressor', () => {
  expect(Object.keys(headlineOf(computeMetrics('classifier', [0, 1], [0, 1], ['a', 'b'])))).toEqual([
    'accuracy',
    'macroF1',
  ]);
  expect(headlineOf(computeMetrics('regressor', [1, 2], [1, 4], null))).toEqual({ mse: 2, rmse: Math.sqrt(2), r2: -7 });
});
