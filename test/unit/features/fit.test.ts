/**
 * The feature transform against scikit-learn on the same rows: StandardScaler / MinMaxScaler on the numeric columns
 * beside OneHotEncoder(handle_unknown="ignore") on the categorical ones (ColumnTransformer, numeric first), then
 * PCA(svd_solver="full"). Fitted on the training rows only, applied to held-out rows with an unseen category.
 */
import { fitFeatureTransforms, compileTransform, componentsToKeep, symmetricEigen } from '../../../src/features';
import { FeatureTransformError } from '../../../src/features/transform';
import { hasPythonModules, runPython } from '../../support/python';

const available = hasPythonModules('sklearn', 'numpy');
if (!available) console.warn('fit.test.ts: scikit-learn cross-checks skipped: /usr/bin/python3 has no scikit-learn');

const NAMES = ['width', 'colour', 'height', 'size', 'flat'];
/** Rows as Prepare writes them: numbers in shortest form, categories as text. */
const ROWS = Array.from({ length: 40 }, (_, i) => [
  String(((i * 7919) % 97) / 10),
  ['red', 'blue', 'green'][(i * 5) % 3],
  String(1000 + ((i * 31) % 17) * 13.5),
  ['S', 'M', 'L', 'XL'][(i * 3) % 4],
  '4',
]);
const TEST = [
  ['3.3', 'green', '1200', 'M', '4'],
  ['0.1', 'purple', '990', 'XXL', '4'],
];
const TRAIN_ROWS = Int32Array.from({ length: 30 }, (_, i) => i + 10);

async function fit(options: { scaling: 'none' | 'standard' | 'minmax'; pca: number | null }, numericOnly = false) {
  const columns = numericOnly ? [0, 2, 4] : [0, 1, 2, 3, 4];
  const text = ROWS.map((row, i) => `${i % 2},${columns.map((j) => row[j]).join(',')}\n`).join('');
  async function* blocks() {
    yield Buffer.from(text);
  }
  const [transform] = await fitFeatureTransforms(
    { rowCount: ROWS.length, blocks: blocks() },
    [{ channel: 'train', rows: TRAIN_ROWS }],
    { featureNames: columns.map((j) => NAMES[j]), categorical: numericOnly ? [] : ['colour', 'size'] },
    { ...options, maxCategoricalLevels: 10 },
  );
  return transform;
}

function sklearn(pipeline: string): number[][] {
  return JSON.parse(
    runPython(
      `
import json, sys
import numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
data = json.load(sys.stdin)
cols = ${JSON.stringify(NAMES)}
def frame(rows):
    df = pd.DataFrame(rows, columns=cols)
    for c in ['width', 'height', 'flat']:
        df[c] = df[c].astype(float)
    return df
train = frame([data['rows'][i] for i in data['train']])
pipe = ${pipeline}
pipe.fit(train)
print(json.dumps(np.asarray(pipe.transform(frame(data['rows'] + data['test']))).tolist()))
`,
      JSON.stringify({ rows: ROWS, test: TEST, train: Array.from(TRAIN_ROWS) }),
    ),
  );
}

function ours(transform: Awaited<ReturnType<typeof fit>>): number[][] {
  const apply = compileTransform(transform);
  return [...ROWS, ...TEST].map((row) => Array.from(apply(row)));
}

function expectClose(actual: number[][], expected: number[][], upToSign = false) {
  expect(actual.length).toBe(expected.length);
  const columns = expected[0].length;
  expect(actual[0].length).toBe(columns);
  for (let j = 0; j < columns; j++) {
    const sign = upToSign && Math.sign(actual[0][j]) !== Math.sign(expected[0][j]) ? -1 : 1;
    for (let i = 0; i < expected.length; i++) expect(sign * actual[i][j]).toBeCloseTo(expected[i][j], 9);
  }
}

const ct = (scaler: string) =>
  `ColumnTransformer([('num', ${scaler}, ['width', 'height', 'flat']), ('cat', OneHotEncoder(handle_unknown='ignore'), ['colour', 'size'])])`;

(available ? describe : describe.skip)('against scikit-learn', () => {
  test('standard: ColumnTransformer(StandardScaler, OneHotEncoder(handle_unknown="ignore"))', async () => {
    const transform = await fit({ scaling: 'standard', pca: null });
    expect(transform.outputFeatures).toEqual([
      'width',
      'height',
      'flat',
      'colour_blue',
      'colour_green',
      'colour_red',
      'size_L',
      'size_M',
      'size_S',
      'size_XL',
    ]);
    // The constant column keeps scale 1, as StandardScaler's.
    expect(transform.numeric[2]).toMatchObject({ center: 4, scale: 1 });
    expectClose(ours(transform), sklearn(ct('StandardScaler()')));
  });

  test('minmax: ColumnTransformer(MinMaxScaler, OneHotEncoder(handle_unknown="ignore"))', async () => {
    expectClose(ours(await fit({ scaling: 'minmax', pca: null })), sklearn(ct('MinMaxScaler()')));
  });

  test('pca integer: make_pipeline(ColumnTransformer(StandardScaler, OneHotEncoder), PCA(3, svd_solver="full"))', async () => {
    const transform = await fit({ scaling: 'standard', pca: 3 });
    expectClose(ours(transform), sklearn(`make_pipeline(${ct('StandardScaler()')}, PCA(3, svd_solver='full'))`), true);
  });

  test('pca fraction: make_pipeline(StandardScaler, PCA(0.9, svd_solver="full")) on the numeric columns', async () => {
    const transform = await fit({ scaling: 'standard', pca: 0.9 }, true);
    const expected = JSON.parse(
      runPython(
        `
import json, sys
import numpy as np
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
d = json.load(sys.stdin)
X = np.array(d['rows'])[:, [0, 2, 4]].astype(float)
p = make_pipeline(StandardScaler(), PCA(0.9, svd_solver='full')).fit(X[d['train']])
print(json.dumps({'n': int(p[-1].n_components_), 'ratio': p[-1].explained_variance_ratio_.tolist(), 'var': p[-1].explained_variance_.tolist()}))
`,
        JSON.stringify({ rows: ROWS, train: Array.from(TRAIN_ROWS) }),
      ),
    );
    expect(transform.pca!.components.length).toBe(expected.n);
    transform.pca!.explainedVariance.slice(0, expected.n).forEach((v, k) => expect(v).toBeCloseTo(expected.var[k], 9));
  });
});

test('an unseen category encodes as all zeros (handle_unknown="ignore")', async () => {
  const transform = await fit({ scaling: 'none', pca: null });
  const row = ours(transform)[ROWS.length + 1];
  expect(row.slice(3)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  expect(row.slice(0, 3)).toEqual([0.1, 990, 4]);
});

test('PCA with more components than features is refused, naming the limit', async () => {
  await expect(fit({ scaling: 'standard', pca: 11 })).rejects.toThrow(
    /features\.pca: 11 components asked, but the training rows of train give at most 10/,
  );
});

test('too many levels are refused, naming the column and the option', async () => {
  await expect(
    fitFeatureTransforms(
      {
        rowCount: 3,
        blocks: (async function* () {
          yield Buffer.from('0,a\n1,b\n0,c\n');
        })(),
      },
      [{ channel: 'fold-1/train', rows: () => true }],
      { featureNames: ['code'], categorical: ['code'] },
      { scaling: 'none', pca: null, maxCategoricalLevels: 2 },
    ),
  ).rejects.toThrow(
    new FeatureTransformError(
      'features.maxCategoricalLevels: column "code" has more than 2 distinct values in the training rows (fold-1/train); one-hot encoding adds a feature per value. Drop the column (features.drop) or raise features.maxCategoricalLevels.',
    ),
  );
});

test("componentsToKeep follows scikit-learn's searchsorted rule", () => {
  expect(componentsToKeep(0.5, [0.5, 0.3, 0.2])).toBe(2);
  expect(componentsToKeep(0.49, [0.5, 0.3, 0.2])).toBe(1);
  expect(componentsToKeep(0.95, [0.5, 0.3, 0.2])).toBe(3);
  expect(componentsToKeep(2, [0.5, 0.3, 0.2])).toBe(2);
});

test('symmetricEigen diagonalises a symmetric matrix', () => {
  const m = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]);
  const { values, vectors } = symmetricEigen(m, 3);
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < 3; i++) {
      let mv = 0;
      for (let j = 0; j < 3; j++) mv += m[i * 3 + j] * vectors[k][j];
      expect(mv).toBeCloseTo(values[k] * vectors[k][i], 12);
    }
  }
  expect(values[0]).toBeGreaterThanOrEqual(values[1]);
});
