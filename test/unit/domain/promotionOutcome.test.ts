import { promotedMessage, promotionOutcome } from '../../../src/domain/promotion';
import { resolveRunConfig } from '../../../src/domain/runConfig';
import { testStageDefaults } from '../../support/stage';

const run = resolveRunConfig({ serve: true }, { name: 'run-9' }, testStageDefaults());
const ours = run.serve.endpointConfigName;
const promotion = { reason: 'Promoted: accuracy 0.97 vs 0.95.', previousConfig: 'knnp-dev--old-serve' };
const outcome = (state: Parameters<typeof promotionOutcome>[0]) => promotionOutcome(state, run, promotion, 'knnp-dev');

test('our config InService: promoted, and only then are superseded configs pruned', () => {
  const verdict = outcome({ status: 'InService', configName: ours });
  expect(verdict).toMatchObject({
    outcome: 'promoted',
    succeeded: true,
    servingConfig: ours,
    previousConfig: 'knnp-dev--old-serve',
    prune: { namePrefix: 'knnp-dev', currentConfig: ours, keep: 2 },
    deleteRunConfig: false,
    deleteStableEndpoint: false,
  });
  expect(promotedMessage(verdict.message, { retained: [ours, 'a'], deleted: [{}] })).toBe(
    `Promoted: accuracy 0.97 vs 0.95. ${run.serve.endpointName} now serves ${run.names.model} (config ${ours}); ` +
      'kept 2 config(s) for rollback, deleted 1.',
  );
});

test('InService on another config: SageMaker rolled back, so our config goes and the endpoint stays', () => {
  const verdict = outcome({ status: 'InService', configName: 'knnp-dev--old-serve', failureReason: 'health check' });
  expect(verdict).toMatchObject({
    outcome: 'rolled-back',
    succeeded: false,
    servingConfig: 'knnp-dev--old-serve',
    deleteRunConfig: true,
    deleteStableEndpoint: false,
  });
  expect(verdict.prune).toBeUndefined();
  expect(verdict.message).toMatch(/updating .* failed \(health check\); it still serves knnp-dev--old-serve\.$/);
});

test("InService on a later run's config, with no failure: ours served and was replaced; a success, and pruning is the later run's", () => {
  const later = 'knnp-dev--run-10-serve';
  const verdict = outcome({ status: 'InService', configName: later });
  expect(verdict).toMatchObject({
    outcome: 'superseded',
    succeeded: true,
    servingConfig: later,
    deleteRunConfig: false,
    deleteStableEndpoint: false,
  });
  // The later promotion prunes; this run must not delete configs the newer one keeps for rollback.
  expect(verdict.prune).toBeUndefined();
  expect(verdict.message).toBe(
    `Promoted: accuracy 0.97 vs 0.95. ${run.serve.endpointName} served ${run.names.model} (config ${ours}) until a ` +
      `later promotion replaced it; it now serves ${later}.`,
  );
  // Back on the config that served before ours, or with a failure reason: a rollback, as before.
  expect(outcome({ status: 'InService', configName: 'knnp-dev--old-serve' }).outcome).toBe('rolled-back');
  expect(outcome({ status: 'InService', configName: later, failureReason: 'health check' }).outcome).toBe(
    'rolled-back',
  );
});

test('a failed first creation removes the broken endpoint and our config; a missing endpoint only our config', () => {
  expect(outcome({ status: 'Failed', failureReason: 'no capacity' })).toMatchObject({
    outcome: 'failed',
    succeeded: false,
    deleteRunConfig: true,
    deleteStableEndpoint: true,
    message: expect.stringMatching(/failed \(no capacity\); no model is serving/),
  });
  expect(outcome(undefined)).toMatchObject({
    outcome: 'failed',
    deleteRunConfig: true,
    deleteStableEndpoint: false,
    message: expect.stringMatching(/failed \(endpoint missing\)/),
  });
});

test('still Updating after the wait: nothing is deleted, the operator is told to look', () => {
  const verdict = outcome({ status: 'Updating', configName: 'knnp-dev--old-serve' });
  expect(verdict).toMatchObject({
    outcome: 'not-settled',
    succeeded: false,
    servingConfig: 'knnp-dev--old-serve',
    deleteRunConfig: false,
    deleteStableEndpoint: false,
  });
  expect(verdict.prune).toBeUndefined();
  expect(verdict.message).toMatch(/is still Updating after the wait/);
});
