// Applying a fitted feature transform (features/transform.json) to raw rows: the one implementation used by the
// channels, Evaluate, `knn-pipeline predict` and client code. Output = [numeric scaled, one-hot], then PCA.
import type { FeatureTransform } from '../artifacts/schemas';
import { PipelineError } from '../errors';

export type { FeatureTransform };

export class FeatureTransformError extends PipelineError {
  override name = 'FeatureTransformError';
}

const FINITE_DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A categorical cell as Prepare keeps it: trimmed, and a number written as its shortest form ("1.0" → "1"). */
export function categoryOf(cell: string): string {
  const text = cell.trim();
  if (!FINITE_DECIMAL.test(text)) return text;
  const value = Number(text);
  return Number.isFinite(value) ? String(value) : text;
}

/** Width of the output before PCA: the numeric columns, then one column per category. */
export function encodedWidth(transform: Pick<FeatureTransform, 'numeric' | 'categorical'>): number {
  return transform.numeric.length + transform.categorical.reduce((sum, column) => sum + column.categories.length, 0);
}

/**
 * Compiles a transform into a function from one row's raw feature cells (in `inputFeatures` order) to its output
 * features. `where` names the row in errors (e.g. "row 12").
 */
export function compileTransform(transform: FeatureTransform): (cells: string[], where?: string) => Float64Array {
  const width = encodedWidth(transform);
  const categoryIndex = transform.categorical.map((column) => new Map(column.categories.map((c, i) => [c, i])));
  const categoryOffsets: number[] = [];
  let offset = transform.numeric.length;
  for (const column of transform.categorical) {
    categoryOffsets.push(offset);
    offset += column.categories.length;
  }
  const pca = transform.pca;
  const encoded = new Float64Array(width);
  return (cells, where = 'a row') => {
    if (cells.length !== transform.inputFeatures.length) {
      throw new FeatureTransformError(
        `${where} has ${cells.length} features, the transform expects ${transform.inputFeatures.length} (${transform.inputFeatures.join(', ')})`,
      );
    }
    encoded.fill(0);
    transform.numeric.forEach((column, j) => {
      const text = cells[column.index].trim();
      const value = FINITE_DECIMAL.test(text) ? Number(text) : Number.NaN;
      if (!Number.isFinite(value)) {
        throw new FeatureTransformError(`${where}: column "${column.name}": expected a finite number, got "${text}"`);
      }
      encoded[j] = (value - column.center) / column.scale;
    });
    transform.categorical.forEach((column, c) => {
      const category = categoryIndex[c].get(categoryOf(cells[column.index]));
      // handle_unknown="ignore": a category the training rows never had encodes as all zeros.
      if (category !== undefined) encoded[categoryOffsets[c] + category] = 1;
    });
    if (!pca) return Float64Array.from(encoded);
    const out = new Float64Array(pca.components.length);
    for (let k = 0; k < pca.components.length; k++) {
      const component = pca.components[k];
      let sum = 0;
      for (let j = 0; j < width; j++) sum += (encoded[j] - pca.mean[j]) * component[j];
      out[k] = sum;
    }
    return out;
  };
}

/**
 * For client code: the features the stable endpoint expects for raw rows given as objects by column name (extra
 * columns, such as the label or dropped ones, are ignored). Each result row is what a text/csv request line holds.
 */
export function applyFeatureTransform(
  transform: FeatureTransform,
  rows: Record<string, string | number>[],
): number[][] {
  const apply = compileTransform(transform);
  return rows.map((row, index) => {
    const cells = transform.inputFeatures.map((name) => {
      if (!(name in row)) throw new FeatureTransformError(`row ${index + 1} has no column "${name}"`);
      return String(row[name]);
    });
    return Array.from(apply(cells, `row ${index + 1}`));
  });
}

/** One output row as CSV text: shortest round-trip decimals, as the channels write numbers. */
export function featureText(values: ArrayLike<number>): string {
  let text = '';
  for (let j = 0; j < values.length; j++) {
    const value = values[j] === 0 ? 0 : values[j];
    text += j === 0 ? String(value) : `,${String(value)}`;
  }
  return text;
}

/** A row's raw feature text ("f1,…,fn") → its transformed features as text, for a request body. */
export function featureLineTransformer(transform: FeatureTransform): (features: string, row?: number) => string {
  const apply = compileTransform(transform);
  return (features, row) => featureText(apply(features.split(','), row === undefined ? undefined : `row ${row + 1}`));
}

/**
 * For the channel writer: a label-first row's bytes ("label,f1,…,fn\n") → the same label and the transformed
 * features.
 */
export function labelFirstRowTransformer(
  transform: FeatureTransform,
): (bytes: Buffer, start: number, end: number) => Buffer {
  const apply = compileTransform(transform);
  return (bytes, start, end) => {
    const line = bytes.toString('utf8', start, end - 1);
    const comma = line.indexOf(',');
    const cells = line.slice(comma + 1).split(',');
    return Buffer.from(`${line.slice(0, comma)},${featureText(apply(cells))}\n`);
  };
}
