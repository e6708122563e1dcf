// Fitting feature transforms on training rows, as scikit-learn fits them: StandardScaler (population standard
// deviation, a constant column keeps scale 1), MinMaxScaler, OneHotEncoder(handle_unknown="ignore") with sorted
// categories, then PCA(svd_solver="full") as an eigendecomposition of the covariance of the encoded rows. One
// streaming pass fits every group at once (the final training rows, each fold's, tuning's).
import type { FeatureTransform } from '../artifacts/schemas';
import { symmetricEigen } from './eigen';
import { FeatureTransformError, categoryOf } from './transform';

export type Scaling = FeatureTransform['scaling'];

/** The run's feature options that shape a fit. */
export interface FitOptions {
  scaling: Scaling;
  /** A number of components (integer ≥ 1) or a fraction of variance to keep (0 < f < 1); null: no PCA. */
  pca: number | null;
  maxCategoricalLevels: number;
}

/** The columns of the prepared rows: their names in order, and which are categorical. */
export interface FitColumns {
  featureNames: string[];
  categorical: string[];
}

/** One transform to fit: on these rows (row numbers, or a predicate in file order), named after its channel. */
export interface FitGroup {
  channel: string;
  rows: Int32Array | ((row: number) => boolean);
}

const FINITE_DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Running moments of one group: Welford's update of means and co-moments over the encoded vector. */
class GroupAccumulator {
  n = 0;
  readonly min: Float64Array;
  readonly max: Float64Array;
  /** Mean and co-moment of x = [numeric values, one indicator per category in order of discovery]. */
  mean: Float64Array;
  comoment: Float64Array;
  capacity: number;
  width: number;
  /** Per categorical column: category → position in x. */
  readonly positions: Map<string, number>[];
  private delta: Float64Array[] = [];

  constructor(
    private readonly numeric: number,
    categorical: number,
    private readonly full: boolean,
  ) {
    this.min = new Float64Array(numeric).fill(Infinity);
    this.max = new Float64Array(numeric).fill(-Infinity);
    this.positions = Array.from({ length: categorical }, () => new Map());
    this.width = numeric;
    this.capacity = Math.max(numeric + 4 * categorical, 1);
    this.mean = new Float64Array(this.capacity);
    this.comoment = new Float64Array(full ? this.capacity * this.capacity : this.capacity);
    this.delta = [new Float64Array(this.capacity), new Float64Array(this.capacity)];
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const mean = new Float64Array(capacity);
    mean.set(this.mean);
    if (this.full) {
      const comoment = new Float64Array(capacity * capacity);
      for (let i = 0; i < this.width; i++) {
        comoment.set(this.comoment.subarray(i * this.capacity, i * this.capacity + this.width), i * capacity);
      }
      this.comoment = comoment;
    } else {
      const comoment = new Float64Array(capacity);
      comoment.set(this.comoment);
      this.comoment = comoment;
    }
    this.mean = mean;
    this.capacity = capacity;
    this.delta = [new Float64Array(capacity), new Float64Array(capacity)];
  }

  /** The position of a category, added on first sight (earlier rows had 0 there: mean and co-moments stay 0). */
  position(column: number, category: string): number {
    let position = this.positions[column].get(category);
    if (position === undefined) {
      if (this.width === this.capacity) this.grow();
      position = this.width++;
      this.positions[column].set(category, position);
    }
    return position;
  }

  add(values: Float64Array, categories: string[]): void {
    for (let j = 0; j < this.numeric; j++) {
      if (values[j] < this.min[j]) this.min[j] = values[j];
      if (values[j] > this.max[j]) this.max[j] = values[j];
    }
    const hot = categories.map((category, c) => this.position(c, category));
    const width = this.width;
    const [before, after] = this.delta;
    const n = ++this.n;
    for (let i = 0; i < width; i++) {
      const x = i < this.numeric ? values[i] : hot.includes(i) ? 1 : 0;
      before[i] = x - this.mean[i];
      this.mean[i] += before[i] / n;
      after[i] = x - this.mean[i];
    }
    if (this.full) {
      const stride = this.capacity;
      for (let i = 0; i < width; i++) {
        const d = before[i];
        if (d === 0) continue;
        const row = i * stride;
        for (let j = 0; j < width; j++) this.comoment[row + j] += d * after[j];
      }
    } else {
      for (let i = 0; i < this.numeric; i++) this.comoment[i] += before[i] * after[i];
    }
  }

  covariance(i: number, j: number): number {
    return this.full ? this.comoment[i * this.capacity + j] : i === j ? this.comoment[i] : 0;
  }
}

/** sklearn's _is_constant_feature: a variance within the numerical error of a constant column. */
function isConstant(variance: number, mean: number, n: number): boolean {
  const eps = Number.EPSILON;
  return variance <= n * eps * variance + (n * mean * eps) ** 2;
}

/** Categories in OneHotEncoder's order: numerically when all are numbers, else by code point. */
function sortCategories(categories: string[]): string[] {
  if (categories.every((category) => FINITE_DECIMAL.test(category))) {
    return [...categories].sort((a, b) => Number(a) - Number(b));
  }
  return [...categories].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The number of components PCA keeps for features.pca: sklearn's rule for a fraction of variance. */
export function componentsToKeep(requested: number, ratios: ArrayLike<number>): number {
  if (requested >= 1) return requested;
  let cumulative = 0;
  let below = 0;
  for (let k = 0; k < ratios.length; k++) {
    cumulative += ratios[k];
    if (cumulative <= requested) below = k + 1;
  }
  return Math.min(below + 1, ratios.length);
}

function finish(
  accumulator: GroupAccumulator,
  group: FitGroup,
  columns: FitColumns,
  numericIndices: number[],
  categoricalIndices: number[],
  options: FitOptions,
): FeatureTransform {
  const n = accumulator.n;
  if (n === 0) throw new FeatureTransformError(`${group.channel}: no training rows to fit the feature transform on`);
  const names = columns.featureNames;
  const numeric = numericIndices.map((index, j) => {
    const min = accumulator.min[j];
    const max = accumulator.max[j];
    const mean = accumulator.mean[j];
    const variance = accumulator.covariance(j, j) / n;
    let center = 0;
    let scale = 1;
    if (options.scaling === 'standard') {
      center = mean;
      scale = isConstant(variance, mean, n) ? 1 : Math.sqrt(variance);
    } else if (options.scaling === 'minmax') {
      center = min;
      scale = max - min < 10 * Number.EPSILON ? 1 : max - min;
    }
    return { name: names[index], index, center, scale, min, max };
  });
  const categorical = categoricalIndices.map((index, c) => {
    const categories = sortCategories([...accumulator.positions[c].keys()]);
    return { name: names[index], index, categories };
  });
  const encodedNames = [
    ...numeric.map((column) => column.name),
    ...categorical.flatMap((column) => column.categories.map((category) => `${column.name}_${category}`)),
  ];
  const base = {
    format: 'knn-pipeline/feature-transform@1' as const,
    inputFeatures: names,
    scaling: options.scaling,
    numeric,
    categorical,
  };
  const fittedOn = { channel: group.channel, rows: n };
  if (options.pca === null) return { ...base, pca: null, outputFeatures: encodedNames, fittedOn };

  // Position in x of each encoded column, and its scale: covariance of z = (x - center) / scale.
  const width = encodedNames.length;
  const source: number[] = [...numeric.map((_, j) => j)];
  const scales: number[] = numeric.map((column) => column.scale);
  const centers: number[] = numeric.map((column) => column.center);
  categorical.forEach((column, c) => {
    for (const category of column.categories) {
      source.push(accumulator.positions[c].get(category)!);
      scales.push(1);
      centers.push(0);
    }
  });
  const requested = options.pca;
  const limit = Math.min(n, width);
  if (requested >= 1 && requested > limit) {
    throw new FeatureTransformError(
      `features.pca: ${requested} components asked, but the training rows of ${group.channel} give at most ` +
        `${limit} (${width} features after encoding, ${n} rows); ask for at most ${limit}, or a fraction of variance`,
    );
  }
  if (n < 2) throw new FeatureTransformError(`features.pca: ${group.channel} has a single training row`);
  const covariance = new Float64Array(width * width);
  for (let a = 0; a < width; a++) {
    for (let b = 0; b < width; b++) {
      covariance[a * width + b] = accumulator.covariance(source[a], source[b]) / (n - 1) / (scales[a] * scales[b]);
    }
  }
  const mean = source.map((position, a) => (accumulator.mean[position] - centers[a]) / scales[a]);
  const eigen = symmetricEigen(covariance, width);
  // Only min(n, width) components exist (svd_solver="full"); rounding can leave tiny negative variances.
  const explainedVariance = Array.from(eigen.values.subarray(0, limit), (value) => Math.max(value, 0));
  let total = 0;
  for (let k = 0; k < width; k++) total += Math.max(eigen.values[k], 0);
  const explainedVarianceRatio = explainedVariance.map((value) => (total > 0 ? value / total : 0));
  const keep = componentsToKeep(requested, explainedVarianceRatio);
  const components = eigen.vectors.slice(0, keep).map((vector) => {
    // svd_flip's rule (scikit-learn ≥ 1.5): the entry of largest magnitude is positive.
    let largest = 0;
    for (let j = 1; j < width; j++) if (Math.abs(vector[j]) > Math.abs(vector[largest])) largest = j;
    const sign = vector[largest] < 0 ? -1 : 1;
    return Array.from(vector, (value) => sign * value + 0);
  });
  return {
    ...base,
    pca: { requested, mean, components, explainedVariance, explainedVarianceRatio },
    outputFeatures: components.map((_, k) => `pca${k}`),
    fittedOn,
  };
}

/**
 * Fits one transform per group in one pass over label-first rows ("label,f1,…,fn\n", blocks of whole rows) and
 * checks the categorical levels against the limit. Groups may share rows.
 */
export async function fitFeatureTransforms(
  source: { rowCount: number; blocks: AsyncIterable<Buffer> },
  groups: FitGroup[],
  columns: FitColumns,
  options: FitOptions,
): Promise<FeatureTransform[]> {
  const categoricalSet = new Set(columns.categorical);
  const numericIndices: number[] = [];
  const categoricalIndices: number[] = [];
  columns.featureNames.forEach((name, index) =>
    (categoricalSet.has(name) ? categoricalIndices : numericIndices).push(index),
  );
  const full = options.pca !== null;
  const accumulators = groups.map(() => new GroupAccumulator(numericIndices.length, categoricalIndices.length, full));
  const members = groups.map((group) => {
    if (typeof group.rows === 'function') return group.rows;
    const mask = new Uint8Array(source.rowCount);
    for (const row of group.rows) mask[row] = 1;
    return (row: number) => mask[row] === 1;
  });
  const values = new Float64Array(numericIndices.length);
  const categories = new Array<string>(categoricalIndices.length);
  let row = 0;
  for await (const block of source.blocks) {
    const text = block.toString('utf8');
    for (let start = 0; start < text.length;) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const cells = text.slice(text.indexOf(',', start) + 1, end).split(',');
      const wanted = members.map((member) => member(row));
      if (wanted.includes(true)) {
        numericIndices.forEach((index, j) => (values[j] = Number(cells[index])));
        categoricalIndices.forEach((index, c) => (categories[c] = categoryOf(cells[index])));
        groups.forEach((group, g) => {
          if (!wanted[g]) return;
          accumulators[g].add(values, categories);
          accumulators[g].positions.forEach((positions, c) => {
            if (positions.size > options.maxCategoricalLevels) {
              throw new FeatureTransformError(
                `features.maxCategoricalLevels: column "${columns.featureNames[categoricalIndices[c]]}" has more than ` +
                  `${options.maxCategoricalLevels} distinct values in the training rows (${group.channel}); one-hot ` +
                  'encoding adds a feature per value. Drop the column (features.drop) or raise features.maxCategoricalLevels.',
              );
            }
          });
        });
      }
      row++;
      start = end + 1;
    }
  }
  return groups.map((group, g) => finish(accumulators[g], group, columns, numericIndices, categoricalIndices, options));
}
