/**
 * The k-NN hyperparameter contract (reference section A.1): string values in, a typed configuration out.
 *
 * All problems are collected and reported together in one KnnClientError, phrased like the JSON-schema
 * ValidationError text of SageMaker's built-in algorithms ("'k' is a required property", "Additional properties are
 * not allowed ('foo' was unexpected)") and the SDK's "Invalid hyperparameter value … Expecting: …" text.
 */

import { KnnClientError } from './errors';

export { KnnClientError } from './errors';

import type { PredictorType } from '../../src/artifacts/predictorType';
export type { PredictorType };
export type IndexType = 'faiss.Flat' | 'faiss.IVFFlat' | 'faiss.IVFPQ';
export type IndexMetric = 'L2' | 'INNER_PRODUCT' | 'COSINE';
export type DimensionReductionType = 'sign' | 'fjlt';

export interface KnnHyperparameters {
  featureDim: number;
  k: number;
  predictorType: PredictorType;
  sampleSize: number;
  indexType: IndexType;
  indexMetric: IndexMetric;
  dimensionReductionType?: DimensionReductionType;
  dimensionReductionTarget?: number;
  faissIndexIvfNlists?: number | 'auto';
  faissIndexPqM?: number;
  miniBatchSize: number;
}

export const PREDICTOR_TYPES: readonly PredictorType[] = ['classifier', 'regressor'];
export const INDEX_TYPES: readonly IndexType[] = ['faiss.Flat', 'faiss.IVFFlat', 'faiss.IVFPQ'];
export const INDEX_METRICS: readonly IndexMetric[] = ['L2', 'INNER_PRODUCT', 'COSINE'];
export const DIMENSION_REDUCTION_TYPES: readonly DimensionReductionType[] = ['sign', 'fjlt'];
export const FAISS_INDEX_PQ_M_VALUES: readonly number[] = [1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96];
export const DEFAULT_MINI_BATCH_SIZE = 5000;

const REQUIRED = ['feature_dim', 'k', 'predictor_type', 'sample_size'] as const;
const KNOWN = new Set<string>([
  ...REQUIRED,
  'dimension_reduction_type',
  'dimension_reduction_target',
  'index_type',
  'index_metric',
  'faiss_index_ivf_nlists',
  'faiss_index_pq_m',
  'mini_batch_size',
]);

const POSITIVE_INTEGER = 'an integer greater than 0';

export function parseHyperparameters(raw: Record<string, string>): KnnHyperparameters {
  const problems: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new KnnClientError(
      `Unable to initialize the algorithm. Failed to validate hyperparameters (caused by ValidationError): ${pythonRepr(raw)} is not of type 'object'`,
    );
  }

  const unexpected = Object.keys(raw).filter((name) => !KNOWN.has(name));
  if (unexpected.length > 0) {
    const names = unexpected.map((name) => pythonRepr(name)).join(', ');
    problems.push(
      `Additional properties are not allowed (${names} ${unexpected.length === 1 ? 'was' : 'were'} unexpected)`,
    );
  }
  for (const name of REQUIRED) {
    if (!(name in raw)) problems.push(`${pythonRepr(name)} is a required property`);
  }

  const text = (name: string): string | undefined => {
    if (!(name in raw)) return undefined;
    const value: unknown = raw[name];
    if (typeof value !== 'string') {
      problems.push(`${pythonRepr(value)} is not of type 'string' (hyperparameter ${pythonRepr(name)})`);
      return undefined;
    }
    return value;
  };
  const invalid = (name: string, value: string, expected: string): undefined => {
    problems.push(`Invalid hyperparameter value ${pythonRepr(value)} for ${pythonRepr(name)}. Expecting: ${expected}`);
    return undefined;
  };
  const positiveInteger = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = parsePositiveInteger(value);
    return parsed ?? invalid(name, value, POSITIVE_INTEGER);
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    return invalid(name, value, `One of ${allowed.map((option) => `"${option}"`).join(', ')}`);
  };

  const featureDim = positiveInteger('feature_dim');
  const k = positiveInteger('k');
  const predictorType = oneOf('predictor_type', PREDICTOR_TYPES);
  const sampleSize = positiveInteger('sample_size');
  const indexType = 'index_type' in raw ? oneOf('index_type', INDEX_TYPES) : 'faiss.Flat';
  const indexMetric = 'index_metric' in raw ? oneOf('index_metric', INDEX_METRICS) : 'L2';
  const dimensionReductionType = oneOf('dimension_reduction_type', DIMENSION_REDUCTION_TYPES);
  const dimensionReductionTarget = positiveInteger('dimension_reduction_target');
  const miniBatchSize = 'mini_batch_size' in raw ? positiveInteger('mini_batch_size') : DEFAULT_MINI_BATCH_SIZE;

  let faissIndexIvfNlists: number | 'auto' | undefined;
  const nlistsText = text('faiss_index_ivf_nlists');
  if (nlistsText !== undefined) {
    faissIndexIvfNlists =
      nlistsText === 'auto'
        ? 'auto'
        : (parsePositiveInteger(nlistsText) ??
          invalid('faiss_index_ivf_nlists', nlistsText, `"auto" or ${POSITIVE_INTEGER}`));
  }

  let faissIndexPqM: number | undefined;
  const pqMText = text('faiss_index_pq_m');
  if (pqMText !== undefined) {
    const parsed = parsePositiveInteger(pqMText);
    faissIndexPqM =
      parsed !== undefined && FAISS_INDEX_PQ_M_VALUES.includes(parsed)
        ? parsed
        : invalid('faiss_index_pq_m', pqMText, `One of ${FAISS_INDEX_PQ_M_VALUES.join(', ')}`);
  }

  // Rules that relate two hyperparameters (checked only when both values are themselves valid).
  const targetGiven = 'dimension_reduction_target' in raw;
  if ('dimension_reduction_type' in raw && !targetGiven) {
    problems.push('"dimension_reduction_target" is required when "dimension_reduction_type" is set.');
  }
  if (targetGiven && !('dimension_reduction_type' in raw)) {
    problems.push('"dimension_reduction_target" is only allowed when "dimension_reduction_type" is set.');
  }
  if (dimensionReductionTarget !== undefined && featureDim !== undefined && dimensionReductionTarget >= featureDim) {
    invalid(
      'dimension_reduction_target',
      raw.dimension_reduction_target,
      `an integer greater than 0 and less than feature_dim (${featureDim})`,
    );
  }
  if (indexType === 'faiss.IVFPQ' && (indexMetric === 'INNER_PRODUCT' || indexMetric === 'COSINE')) {
    problems.push(
      `Invalid hyperparameter value ${pythonRepr(indexMetric)} for 'index_metric'. Expecting: "L2" when index_type is "faiss.IVFPQ" (INNER_PRODUCT and COSINE are not supported with faiss.IVFPQ)`,
    );
  }

  if (problems.length > 0) {
    throw new KnnClientError(
      `Unable to initialize the algorithm. Failed to validate hyperparameters (caused by ValidationError): ${problems.join('; ')}`,
      problems,
    );
  }

  const parsed: KnnHyperparameters = {
    featureDim: featureDim!,
    k: k!,
    predictorType: predictorType!,
    sampleSize: sampleSize!,
    indexType: indexType!,
    indexMetric: indexMetric!,
    miniBatchSize: miniBatchSize!,
  };
  if (dimensionReductionType !== undefined) parsed.dimensionReductionType = dimensionReductionType;
  if (dimensionReductionTarget !== undefined) parsed.dimensionReductionTarget = dimensionReductionTarget;
  if (faissIndexIvfNlists !== undefined) parsed.faissIndexIvfNlists = faissIndexIvfNlists;
  if (faissIndexPqM !== undefined) parsed.faissIndexPqM = faissIndexPqM;
  return parsed;
}

/** The inverse of parseHyperparameters: the string map SageMaker would have received (used in the model artifact). */
export function formatHyperparameters(hyperparameters: KnnHyperparameters): Record<string, string> {
  const raw: Record<string, string> = {
    feature_dim: String(hyperparameters.featureDim),
    k: String(hyperparameters.k),
    predictor_type: hyperparameters.predictorType,
    sample_size: String(hyperparameters.sampleSize),
    index_type: hyperparameters.indexType,
    index_metric: hyperparameters.indexMetric,
    mini_batch_size: String(hyperparameters.miniBatchSize),
  };
  if (hyperparameters.dimensionReductionType !== undefined)
    raw.dimension_reduction_type = hyperparameters.dimensionReductionType;
  if (hyperparameters.dimensionReductionTarget !== undefined) {
    raw.dimension_reduction_target = String(hyperparameters.dimensionReductionTarget);
  }
  if (hyperparameters.faissIndexIvfNlists !== undefined)
    raw.faiss_index_ivf_nlists = String(hyperparameters.faissIndexIvfNlists);
  if (hyperparameters.faissIndexPqM !== undefined) raw.faiss_index_pq_m = String(hyperparameters.faissIndexPqM);
  return raw;
}

/** Decimal digits only (optional leading "+", blanks around allowed, like Python's int()); undefined unless > 0. */
function parsePositiveInteger(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\+?\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** How Python's repr() shows a JSON-like value inside a jsonschema message ('abc', 10, None, …). */
function pythonRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? String(value);
}
