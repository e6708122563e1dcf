import { KnnClientError } from '../../../local/knn/errors';
import { packModelArtifact, unpackModelArtifact } from '../../../local/knn/model';
import { predict } from '../../../local/knn/predict';
import { type TrainingInput, trainKnn } from '../../../local/knn/train';
import { irisChannels } from './fixtures';

const IRIS_K1 = { feature_dim: '4', k: '1', predictor_type: 'classifier', sample_size: '200' };
const LOG_TIME = new Date('2026-11-28T06:15:46Z');

function clientError(input: TrainingInput): KnnClientError {
  try {
    trainKnn(input);
  } catch (error) {
    expect(error).toBeInstanceOf(KnnClientError);
    expect((error as Error).message).toMatch(/^ClientError: /);
    return error as KnnClientError;
  }
  throw new Error('expected training to fail');
}

/** y = 2x on x = 0..n-1, label first. */
function lineChannel(xs: number[]): string {
  return xs.map((x) => `${2 * x},${x}`).join('\n');
}

describe('trainKnn', () => {
  test('Iris, k=1: the scores of the real container’s log', () => {
    const { train, test } = irisChannels();
    const result = trainKnn({ hyperparameters: IRIS_K1, train, test, now: () => LOG_TIME });

    expect(result.log).toContain(
      "[11/28/2026 06:15:46 INFO 140285487171328] #test_score (algo-1) : ('accuracy', 0.9736842105263158)",
    );
    expect(result.log).toContain(
      "[11/28/2026 06:15:46 INFO 140285487171328] #test_score (algo-1) : ('macro_f_1.000', 0.97170347)",
    );
    expect(result.finalMetrics).toEqual([
      { MetricName: 'test:accuracy', Value: 0.9736842105263158 },
      { MetricName: 'test:macro_f_1.000', Value: 0.97170347 },
    ]);
    expect(result.model).toMatchObject({ dim: 4, k: 1, count: 112, metric: 'L2', predictorType: 'classifier' });
  });

  test('logs the per-worker sample size and samples that many rows', () => {
    const { train } = irisChannels();
    const result = trainKnn({ hyperparameters: { ...IRIS_K1, sample_size: '50' }, train });

    expect(result.log.some((line) => /Using per-worker sample size = 50 \(.*number of workers = 1\)/.test(line))).toBe(
      true,
    );
    expect(result.model.count).toBe(50);
    expect(result.model.points.length).toBe(200);
    expect(result.finalMetrics).toEqual([]);
    expect(result.log.some((line) => line.includes('#test_score'))).toBe(false);
  });

  test('sampling is reproducible from the seed', () => {
    const { train } = irisChannels();
    const hyperparameters = { ...IRIS_K1, sample_size: '30' };
    const first = trainKnn({ hyperparameters, train, seed: 1 }).model;
    expect(trainKnn({ hyperparameters, train, seed: 1 }).model.points).toEqual(first.points);
    expect(trainKnn({ hyperparameters, train, seed: 2 }).model.points).not.toEqual(first.points);
  });

  test('regressor: mean of the neighbours, scored by mse', () => {
    const result = trainKnn({
      hyperparameters: { feature_dim: '1', k: '2', predictor_type: 'regressor', sample_size: '100' },
      train: lineChannel([0, 1, 2, 3, 4]),
      // x = 0.4 -> neighbours 0, 1 -> 1.0 (true 0.8); x = 3.6 -> neighbours 4, 3 -> 7.0 (true 7.2)
      test: '0.8,0.4\n7.2,3.6\n',
      now: () => LOG_TIME,
    });
    const mse = ((1 - 0.8) ** 2 + (7 - 7.2) ** 2) / 2;

    expect(result.finalMetrics).toEqual([{ MetricName: 'test:mse', Value: mse }]);
    expect(result.log).toContain(
      `[11/28/2026 06:15:46 INFO 140285487171328] #test_score (algo-1) : ('mse', ${String(mse)})`,
    );
  });

  test('the trained model survives the artifact round trip with the same predictions', async () => {
    const { train, test } = irisChannels();
    const { model } = trainKnn({ hyperparameters: { ...IRIS_K1, k: '5' }, train, test });
    const queries = test
      .trim()
      .split('\n')
      .map((line) => line.split(',').slice(1).map(Number));

    const restored = await unpackModelArtifact(await packModelArtifact(model));

    expect(predict(restored, queries, { verbose: true })).toEqual(predict(model, queries, { verbose: true }));
  });

  test('sign dimension reduction projects training points and queries alike', async () => {
    const { train, test } = irisChannels();
    const result = trainKnn({
      hyperparameters: { ...IRIS_K1, dimension_reduction_type: 'sign', dimension_reduction_target: '2' },
      train,
      test,
      seed: 4,
    });
    const trainRows = train
      .trim()
      .split('\n')
      .map((line) => line.split(',').map(Number));

    expect(result.model.dimensionReduction).toEqual({ type: 'sign', seed: 4, inputDim: 4, targetDim: 2 });
    expect(result.model.points.length).toBe(112 * 2);
    // Each training point finds itself (distance 0) in the projected space.
    const verbose = predict(
      result.model,
      trainRows.map((row) => row.slice(1)),
      { verbose: true },
    );
    expect(verbose.every((p) => p.distances![0] === 0)).toBe(true);
    expect(result.finalMetrics[0].Value).toBeGreaterThan(0.6);
    const restored = await unpackModelArtifact(await packModelArtifact(result.model));
    expect(predict(restored, [[5.1, 3.5, 1.4, 0.2]], { verbose: true })).toEqual(
      predict(result.model, [[5.1, 3.5, 1.4, 0.2]], { verbose: true }),
    );
  });

  describe('customer errors fail the job with a ClientError', () => {
    const { train, test: testChannel } = irisChannels();

    test('invalid hyperparameters', () => {
      expect(clientError({ hyperparameters: { ...IRIS_K1, k: '0', foo: 'x' }, train }).problems).toHaveLength(2);
    });

    test('an unreadable train channel names the channel and the row', () => {
      const message = clientError({ hyperparameters: IRIS_K1, train: '0,1,2,3,4\n1,2,x,3,4\n' }).message;
      expect(message).toMatch(/channel "train": row 2, column 3: expected a finite number, got "x"/);
    });

    test('an empty train channel', () => {
      expect(clientError({ hyperparameters: IRIS_K1, train: '\n' }).message).toMatch(/channel "train": is empty/);
    });

    test('feature_dim different from the data width names both numbers', () => {
      const message = clientError({ hyperparameters: { ...IRIS_K1, feature_dim: '5' }, train }).message;
      expect(message).toMatch(/feature_dim hyperparameter is 5 but channel "train" row 1 has 4 features/);
    });

    test('a test channel of another width', () => {
      const message = clientError({ hyperparameters: IRIS_K1, train, test: '0,1,2,3\n' }).message;
      expect(message).toMatch(/channel "test" row 1 has 3 features/);
    });

    test('k greater than sample_size', () => {
      expect(clientError({ hyperparameters: { ...IRIS_K1, k: '11', sample_size: '10' }, train }).message).toMatch(
        /k \(11\) must not be greater than sample_size \(10\)/,
      );
    });

    test('classifier labels that are not class indices', () => {
      expect(clientError({ hyperparameters: IRIS_K1, train: '0,1,1,1,1\n1.5,2,2,2,2\n' }).message).toMatch(
        /predictor_type is classifier but channel "train" row 2 has label 1\.5/,
      );
      expect(clientError({ hyperparameters: IRIS_K1, train, test: '-1,1,1,1,1\n' }).message).toMatch(
        /channel "test" row 1 has label -1/,
      );
    });

    test('a regressor accepts any finite label', () => {
      const hyperparameters = { feature_dim: '1', k: '1', predictor_type: 'regressor', sample_size: '10' };
      expect(trainKnn({ hyperparameters, train: '-1.5,0\n2.25,1\n', test: '0.5,0\n' }).finalMetrics[0].Value).toBe(4);
    });

    test('fjlt dimension reduction is not implemented locally', () => {
      const hyperparameters = { ...IRIS_K1, dimension_reduction_type: 'fjlt', dimension_reduction_target: '2' };
      expect(clientError({ hyperparameters, train }).message).toMatch(
        /"fjlt" is not implemented by the local emulator/,
      );
    });

    test('an IVF index with more lists than sampled points', () => {
      const hyperparameters = { ...IRIS_K1, index_type: 'faiss.IVFFlat', faiss_index_ivf_nlists: '150' };
      expect(clientError({ hyperparameters, train }).message).toMatch(
        /faiss_index_ivf_nlists is 150 but only 112 points were sampled/,
      );
      expect(
        trainKnn({ hyperparameters: { ...hyperparameters, faiss_index_ivf_nlists: 'auto' }, train, test: testChannel })
          .finalMetrics[0].Value,
      ).toBe(0.9736842105263158);
    });

    test('faiss.IVFPQ with fewer than 256 sampled points', () => {
      const hyperparameters = { ...IRIS_K1, index_type: 'faiss.IVFPQ', faiss_index_pq_m: '2' };
      expect(clientError({ hyperparameters, train }).message).toMatch(
        /faiss\.IVFPQ needs at least 256 sampled points to train its product-quantizer codebooks, got 112/,
      );
    });
  });
});
