// The features section of the run options: defaults from the stage, the input over them, problems found up front,
// and the promotion rule when the champion was trained on other columns.
import { resolveRunConfig } from '../../../src/domain/runConfig';
import { stageDefaultsFromEnv } from '../../../src/config/stage';
import { decidePromotion } from '../../../src/domain/promotion';
import { checkQualityGate } from '../../../src/domain/evaluation';
import { problemsOf, testStageDefaults } from '../../support/stage';

const execution = { name: 'features-run' };

test('off by default; the input sets each field over the stage defaults', () => {
  expect(resolveRunConfig({}, execution, testStageDefaults()).features).toEqual({
    scaling: 'none',
    categorical: [],
    pca: null,
    drop: [],
    maxCategoricalLevels: 100,
  });
  const run = resolveRunConfig(
    { features: { scaling: 'standard', categorical: 'auto', pca: 0.9, drop: ['id'] } },
    execution,
    testStageDefaults(),
  );
  expect(run.features).toEqual({
    scaling: 'standard',
    categorical: 'auto',
    pca: 0.9,
    drop: ['id'],
    maxCategoricalLevels: 100,
  });
});

test('problems are named by field', () => {
  expect(
    problemsOf(() =>
      resolveRunConfig({ features: { scaling: 'robust', pca: 2.5 } as never }, execution, testStageDefaults()),
    ),
  ).toEqual([
    'features.scaling: Invalid option: expected one of "none"|"standard"|"minmax"',
    'features.pca: must be a whole number of components (1 or more) or a fraction of variance between 0 and 1',
  ]);
  expect(
    problemsOf(() =>
      resolveRunConfig(
        { features: { categorical: ['Species', 'colour', 'colour'], drop: ['colour'] } },
        execution,
        testStageDefaults(),
      ),
    ),
  ).toEqual([
    'features.categorical: "Species" is the label column, not a feature',
    'features.categorical: "colour" is listed twice',
    'features: "colour" is both dropped (features.drop) and categorical (features.categorical)',
  ]);
});

test('stage parameters FEATURE_* set the defaults; a bad one is refused', () => {
  const env = {
    DATA_BUCKET: 'b',
    NAME_PREFIX: 'knnp-dev',
    KNN_IMAGE_URI: 'i',
    SAGEMAKER_ROLE_ARN: 'arn:aws:iam::1:role/r',
  };
  expect(
    stageDefaultsFromEnv({
      ...env,
      FEATURE_SCALING: 'minmax',
      FEATURE_CATEGORICAL: 'a, b',
      FEATURE_PCA: '3',
      FEATURE_DROP: 'id',
    }).features,
  ).toEqual({ scaling: 'minmax', categorical: ['a', 'b'], pca: 3, drop: ['id'], maxCategoricalLevels: 100 });
  expect(stageDefaultsFromEnv({ ...env, FEATURE_CATEGORICAL: 'auto' }).features.categorical).toBe('auto');
  expect(() => stageDefaultsFromEnv({ ...env, FEATURE_PCA: '-1' })).toThrow(/FEATURE_PCA/);
});

test('a champion trained on other columns cannot be compared: the gate alone decides', () => {
  const gate = checkQualityGate({ metric: 'accuracy', threshold: 0.9, direction: 'min' }, { accuracy: 0.95 });
  const promotion = decidePromotion(
    true,
    gate,
    { status: 'InService', configName: 'knnp-dev--old-serve', incomparable: 'the current model was trained on a, b' },
    'knnp-dev--serving',
  );
  expect(promotion).toMatchObject({ decision: 'promote', champion: null, previousConfig: 'knnp-dev--old-serve' });
  expect(promotion.reason).toContain('the quality gate alone decides');
});
