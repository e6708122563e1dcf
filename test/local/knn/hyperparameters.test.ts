import { KnnClientError, formatHyperparameters, parseHyperparameters } from '../../../local/knn/hyperparameters';

const REQUIRED = { feature_dim: '4', k: '3', predictor_type: 'classifier', sample_size: '100' };

function failure(raw: Record<string, unknown>): KnnClientError {
  try {
    parseHyperparameters(raw as Record<string, string>);
  } catch (error) {
    expect(error).toBeInstanceOf(KnnClientError);
    return error as KnnClientError;
  }
  throw new Error('expected parseHyperparameters to throw');
}

describe('parseHyperparameters', () => {
  test('parses the required values and fills the documented defaults', () => {
    expect(parseHyperparameters(REQUIRED)).toEqual({
      featureDim: 4,
      k: 3,
      predictorType: 'classifier',
      sampleSize: 100,
      indexType: 'faiss.Flat',
      indexMetric: 'L2',
      miniBatchSize: 5000,
    });
  });

  test('parses every optional hyperparameter', () => {
    const parsed = parseHyperparameters({
      ...REQUIRED,
      feature_dim: '20',
      predictor_type: 'regressor',
      index_type: 'faiss.IVFPQ',
      index_metric: 'L2',
      dimension_reduction_type: 'sign',
      dimension_reduction_target: '10',
      faiss_index_ivf_nlists: '16',
      faiss_index_pq_m: '8',
      mini_batch_size: '200',
    });
    expect(parsed).toMatchObject({
      featureDim: 20,
      predictorType: 'regressor',
      indexType: 'faiss.IVFPQ',
      dimensionReductionType: 'sign',
      dimensionReductionTarget: 10,
      faissIndexIvfNlists: 16,
      faissIndexPqM: 8,
      miniBatchSize: 200,
    });
    expect(parseHyperparameters({ ...REQUIRED, faiss_index_ivf_nlists: 'auto' }).faissIndexIvfNlists).toBe('auto');
  });

  test('formatHyperparameters is its inverse', () => {
    const raw = {
      ...REQUIRED,
      index_type: 'faiss.IVFFlat',
      index_metric: 'COSINE',
      faiss_index_ivf_nlists: 'auto',
      mini_batch_size: '10',
    };
    expect(parseHyperparameters(formatHyperparameters(parseHyperparameters(raw)))).toEqual(parseHyperparameters(raw));
  });

  test('a failure is a ClientError naming the hyperparameter, the value and what was expected', () => {
    const error = failure({ ...REQUIRED, k: '0' });
    expect(error.name).toBe('KnnClientError');
    expect(error.message).toMatch(/^ClientError: /);
    expect(error.message).toContain("Invalid hyperparameter value '0' for 'k'. Expecting: an integer greater than 0");
  });

  test.each(['feature_dim', 'k', 'predictor_type', 'sample_size'])('%s is required', (name) => {
    const raw: Record<string, string> = { ...REQUIRED };
    delete raw[name];
    expect(failure(raw).problems).toEqual([`'${name}' is a required property`]);
  });

  test.each([
    ['feature_dim', '-4'],
    ['k', '2.5'],
    ['k', 'ten'],
    ['sample_size', '0'],
    ['sample_size', ''],
    ['mini_batch_size', '1e3'],
    ['dimension_reduction_target', '0'],
  ])('%s=%p is not an integer greater than 0', (name, value) => {
    const raw = {
      ...REQUIRED,
      feature_dim: '20',
      dimension_reduction_type: 'sign',
      dimension_reduction_target: '5',
      [name]: value,
    };
    expect(failure(raw).problems).toContain(
      `Invalid hyperparameter value '${value}' for '${name}'. Expecting: an integer greater than 0`,
    );
  });

  test.each([
    ['predictor_type', 'classification', 'One of "classifier", "regressor"'],
    ['index_type', 'faiss.HNSW', 'One of "faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ"'],
    ['index_metric', 'l2', 'One of "L2", "INNER_PRODUCT", "COSINE"'],
    ['dimension_reduction_type', 'pca', 'One of "sign", "fjlt"'],
  ])('%s must be one of its values', (name, value, expected) => {
    const raw = { ...REQUIRED, dimension_reduction_target: '2', [name]: value };
    expect(failure(raw).problems).toContain(
      `Invalid hyperparameter value '${value}' for '${name}'. Expecting: ${expected}`,
    );
  });

  test('dimension_reduction_target is required when dimension_reduction_type is set, and only then', () => {
    expect(failure({ ...REQUIRED, dimension_reduction_type: 'fjlt' }).problems).toEqual([
      '"dimension_reduction_target" is required when "dimension_reduction_type" is set.',
    ]);
    expect(failure({ ...REQUIRED, dimension_reduction_target: '2' }).problems).toEqual([
      '"dimension_reduction_target" is only allowed when "dimension_reduction_type" is set.',
    ]);
  });

  test('dimension_reduction_target must be smaller than feature_dim', () => {
    const raw = { ...REQUIRED, dimension_reduction_type: 'sign', dimension_reduction_target: '4' };
    expect(failure(raw).problems).toEqual([
      "Invalid hyperparameter value '4' for 'dimension_reduction_target'. Expecting: an integer greater than 0 and less than feature_dim (4)",
    ]);
    expect(parseHyperparameters({ ...raw, dimension_reduction_target: '3' }).dimensionReductionTarget).toBe(3);
  });

  test.each(['INNER_PRODUCT', 'COSINE'])('%s is not allowed with faiss.IVFPQ (but is with faiss.IVFFlat)', (metric) => {
    expect(failure({ ...REQUIRED, index_type: 'faiss.IVFPQ', index_metric: metric }).message).toContain(
      'INNER_PRODUCT and COSINE are not supported with faiss.IVFPQ',
    );
    expect(parseHyperparameters({ ...REQUIRED, index_type: 'faiss.IVFFlat', index_metric: metric }).indexMetric).toBe(
      metric,
    );
  });

  test('faiss_index_pq_m must be one of the allowed sub-vector counts', () => {
    expect(parseHyperparameters({ ...REQUIRED, faiss_index_pq_m: '96' }).faissIndexPqM).toBe(96);
    expect(failure({ ...REQUIRED, faiss_index_pq_m: '5' }).problems).toEqual([
      "Invalid hyperparameter value '5' for 'faiss_index_pq_m'. Expecting: One of 1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96",
    ]);
  });

  test('faiss_index_ivf_nlists is "auto" or a positive integer', () => {
    expect(failure({ ...REQUIRED, faiss_index_ivf_nlists: 'AUTO' }).problems).toEqual([
      `Invalid hyperparameter value 'AUTO' for 'faiss_index_ivf_nlists'. Expecting: "auto" or an integer greater than 0`,
    ]);
  });

  test('unknown hyperparameters are rejected like a JSON-schema additionalProperties failure', () => {
    expect(failure({ ...REQUIRED, foo: '1' }).problems).toEqual([
      "Additional properties are not allowed ('foo' was unexpected)",
    ]);
    expect(failure({ ...REQUIRED, foo: '1', epochs: '3' }).problems).toEqual([
      "Additional properties are not allowed ('foo', 'epochs' were unexpected)",
    ]);
  });

  test('values must be strings, as on the SageMaker API', () => {
    expect(failure({ ...REQUIRED, k: 3 }).problems).toEqual(["3 is not of type 'string' (hyperparameter 'k')"]);
  });

  test('collects every problem instead of stopping at the first', () => {
    const error = failure({ k: '0', predictor_type: 'x', sample_size: '10', foo: 'bar' });
    expect(error.problems).toEqual([
      "Additional properties are not allowed ('foo' was unexpected)",
      "'feature_dim' is a required property",
      "Invalid hyperparameter value '0' for 'k'. Expecting: an integer greater than 0",
      'Invalid hyperparameter value \'x\' for \'predictor_type\'. Expecting: One of "classifier", "regressor"',
    ]);
    for (const problem of error.problems) expect(error.message).toContain(problem);
  });
});
