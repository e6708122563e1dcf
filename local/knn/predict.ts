/**
 * Prediction from the k nearest stored points (reference A.2 "Prediction rule", A.4 verbose responses).
 *
 * - classifier: the most frequent label among the neighbours. AWS does not document ties; here a tie goes to the
 *   smallest tied label value — what numpy's argmax over bincount and scikit-learn's KNeighborsClassifier
 *   (scipy's mode) both do, so local predictions can be checked against those references row for row.
 * - regressor: the mean of the neighbour labels, rounded to float32 (the container computes on np.float32 arrays).
 * - verbose: the neighbours' labels and distances, aligned, best first: squared L2 distances ascending for `L2`,
 *   inner products / cosine similarities descending for `INNER_PRODUCT` / `COSINE` (the values the index reports).
 * - With fewer than k stored points, all stored points are the neighbours (no padding appears in a prediction).
 */

import { ExactIndex } from './engine';
import { projectRows } from './dimensionReduction';
import { type KnnModel, indexDim } from './model';

export interface Prediction {
  predicted_label: number;
  labels?: number[];
  distances?: number[];
}

export type PredictionQueries = number[][] | { data: Float32Array; count: number };

// One index per loaded model object, so a server answering many requests builds it once.
const indexCache = new WeakMap<KnnModel, { points: Float32Array; index: ExactIndex }>();

export function predict(
  model: KnnModel,
  queries: PredictionQueries,
  options: { verbose?: boolean } = {},
): Prediction[] {
  const { data, count, neighbourCount } = prepareQueries(model, queries);
  const { distances, indices } = indexFor(model).search(data, count, neighbourCount);
  return toPredictions(model, count, neighbourCount, distances, indices, options);
}

/** predict() with the search on the worker threads, so a server's event loop keeps serving meanwhile. */
export async function predictAsync(
  model: KnnModel,
  queries: PredictionQueries,
  options: { verbose?: boolean } = {},
): Promise<Prediction[]> {
  const { data, count, neighbourCount } = prepareQueries(model, queries);
  const { distances, indices } = await indexFor(model).searchParallel(data, count, neighbourCount);
  return toPredictions(model, count, neighbourCount, distances, indices, options);
}

function prepareQueries(
  model: KnnModel,
  queries: PredictionQueries,
): { data: Float32Array; count: number; neighbourCount: number } {
  const rows = Array.isArray(queries) ? toFloat32Rows(queries, model.dim) : queries;
  const { count } = rows;
  let { data } = rows;
  if (data.length !== count * model.dim) {
    throw new RangeError(`queries hold ${data.length} values, expected ${count} × feature_dim ${model.dim}`);
  }
  if (!Number.isInteger(model.k) || model.k <= 0)
    throw new RangeError(`model k must be a positive integer, got ${model.k}`);
  if (model.dimensionReduction) data = projectRows(data, count, model.dimensionReduction);
  const neighbourCount = Math.min(model.k, model.count);
  if (neighbourCount === 0) throw new RangeError('the model holds no points to predict from');
  return { data, count, neighbourCount };
}

function toPredictions(
  model: KnnModel,
  count: number,
  neighbourCount: number,
  distances: Float32Array,
  indices: Int32Array,
  options: { verbose?: boolean },
): Prediction[] {
  const predictions: Prediction[] = [];
  const neighbourLabels = new Array<number>(neighbourCount);
  for (let query = 0; query < count; query++) {
    const offset = query * neighbourCount;
    for (let i = 0; i < neighbourCount; i++) neighbourLabels[i] = model.labels[indices[offset + i]];
    const prediction: Prediction = {
      predicted_label:
        model.predictorType === 'classifier' ? majorityLabel(neighbourLabels) : Math.fround(meanOf(neighbourLabels)),
    };
    if (options.verbose) {
      prediction.labels = neighbourLabels.slice();
      prediction.distances = Array.from(distances.subarray(offset, offset + neighbourCount));
    }
    predictions.push(prediction);
  }
  return predictions;
}

/** Most frequent label; ties go to the smallest tied label value (see the module comment). */
export function majorityLabel(labels: readonly number[]): number {
  if (labels.length === 0) throw new RangeError('no labels to vote on');
  const counts = new Map<number, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  let best = labels[0];
  for (const [label, count] of counts) {
    const bestCount = counts.get(best)!;
    if (count > bestCount || (count === bestCount && label < best)) best = label;
  }
  return best;
}

function meanOf(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function indexFor(model: KnnModel): ExactIndex {
  const cached = indexCache.get(model);
  if (cached && cached.points === model.points && cached.index.metric === model.metric) return cached.index;
  const index = new ExactIndex(indexDim(model), model.metric);
  index.add(model.points, model.count);
  indexCache.set(model, { points: model.points, index });
  return index;
}

function toFloat32Rows(rows: number[][], dim: number): { data: Float32Array; count: number } {
  const data = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => {
    if (row.length !== dim) throw new RangeError(`query ${i} has ${row.length} features, expected ${dim}`);
    data.set(row, i * dim);
  });
  return { data, count: rows.length };
}
