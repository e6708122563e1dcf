// Keeps the charts readable and the HTML small however wide or long the dataset is, and the report's memory bounded:
// the rows a chart draws are a seeded uniform random sample, taken while the rows stream past.
import type { LabelledPoint, SampleOrigin } from './types';

/** 6 features give 15 pairs: still legible on one screen. */
export const MAX_SCATTER_FEATURES = 6;
/** 300 points × 15 pairs stays around half a megabyte of SVG in the worst case. */
export const MAX_SCATTER_POINTS = 300;
/** Targets in a regressor's histogram: enough for its shape, a few kilobytes of chart data. */
export const MAX_HISTOGRAM_VALUES = 5000;
/** Beyond this many rows the validation table is a selection (misses first); predictions.csv has them all. */
export const MAX_VALIDATION_ROWS = 500;
/** Points of a regressor's predicted-vs-true chart: enough to see the fit; more would only grow the file. */
export const MAX_REGRESSION_CHART_POINTS = 1000;

export interface ScatterSample {
  featureNames: string[];
  points: LabelledPoint[];
  totalFeatures: number;
  totalPoints: number;
}

/** Evenly spaced rows, so the same input always gives the same sample and sorted data keeps its proportions. */
export function evenlySpaced<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]);
}

export function scatterSample(
  featureNames: string[],
  points: LabelledPoint[],
  maxFeatures = MAX_SCATTER_FEATURES,
  maxPoints = MAX_SCATTER_POINTS,
): ScatterSample {
  const keptFeatures = featureNames.slice(0, maxFeatures);
  return {
    featureNames: keptFeatures,
    points: evenlySpaced(points, maxPoints).map((point) => ({
      ...point,
      features: point.features.slice(0, keptFeatures.length),
    })),
    totalFeatures: featureNames.length,
    totalPoints: points.length,
  };
}

/** Counts as the report writes them: 1,000,000 rather than 1000000 (no change below 1,000). */
export function count(value: number): string {
  // By hand: Intl's number formatting costs milliseconds on first use, and its output depends on the ICU data.
  const digits = String(Math.abs(Math.round(value)));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return value < 0 ? `-${grouped}` : grouped;
}

/** The caption of a chart or table that shows a uniform random sample of its rows. */
export function sampledRows(shown: number, origin: SampleOrigin, what = 'rows'): string {
  return `${count(shown)} of ${count(origin.rows)} ${what}, sampled uniformly at random (seed ${origin.seed})`;
}

/**
 * What the caption must admit about the sample, or null when everything is drawn. `origin` is set when the points
 * are already a uniform random sample of a larger dataset (read as a stream).
 */
export function describeSample(sample: ScatterSample, origin?: SampleOrigin): string | null {
  const notes: string[] = [];
  if (sample.totalFeatures > sample.featureNames.length) {
    notes.push(`only the first ${sample.featureNames.length} of ${sample.totalFeatures} features`);
  }
  if (origin && origin.rows > sample.points.length) {
    notes.push(sampledRows(sample.points.length, origin));
  } else if (sample.totalPoints > sample.points.length) {
    notes.push(`${sample.points.length} of ${sample.totalPoints} rows, sampled deterministically at even intervals`);
  }
  return notes.length ? `Shows ${notes.join(' and ')}.` : null;
}

/** murmur3's 32-bit finaliser: a bijection of 32-bit integers with full avalanche. */
function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The sampling key of row `index` (0 ≤ index < 2^32) for `seed`: a pseudo-random 32-bit number that depends on the
 * row and the seed only, and is different for every row (a bijection of the index), so samples never tie. A row's
 * key is the same whichever stream or pass sees it: two readers of the same rows (features and labels) keep the same
 * rows without talking to each other.
 */
export function sampleKey(seed: number, index: number): number {
  return mix32(mix32(index ^ mix32(seed)) + 0x9e3779b9);
}

/**
 * A seeded reservoir sample of at most `capacity` items from a stream of rows (bottom-k sampling: the rows with the
 * smallest keys): every subset of that size is equally likely, whatever the number of rows, and the sample depends
 * only on the seed and the rows, not on how they were chunked. Ask `offer(index)` before building a row's item, so
 * that only rows that enter the sample are parsed. Memory: the items kept, nothing per row passed over.
 */
export class ReservoirSample<T> {
  /** A max-heap on key: the root is the key a new row must beat once the sample is full. */
  private readonly keys: number[] = [];
  private readonly indices: number[] = [];
  private readonly items: T[] = [];
  private offered = 0;

  constructor(
    readonly capacity: number,
    readonly seed: number,
  ) {}

  /** Rows offered so far (the sample's population). */
  get seen(): number {
    return this.offered;
  }

  /**
   * Counts row `index` as seen and tells whether it enters the sample (then add() it). Call once per row, in any
   * order; the row's item need only be built when the answer is true. `key` saves hashing a row again when several
   * samples of the same seed see it: it must be sampleKey(seed, index).
   */
  offer(index: number, key = sampleKey(this.seed, index)): boolean {
    this.offered += 1;
    return this.keys.length < this.capacity || (this.capacity > 0 && key < this.keys[0]);
  }

  /** Adds row `index` (after offer(index) answered true), evicting the row with the largest key when full. */
  add(index: number, item: T, key = sampleKey(this.seed, index)): void {
    if (this.keys.length < this.capacity) {
      this.keys.push(key);
      this.indices.push(index);
      this.items.push(item);
      this.siftUp(this.keys.length - 1);
      return;
    }
    this.keys[0] = key;
    this.indices[0] = index;
    this.items[0] = item;
    this.siftDown(0);
  }

  /** The sample as [row index, item] pairs in row order. */
  entries(): [number, T][] {
    return this.indices.map((index, i) => [index, this.items[i]] as [number, T]).sort(([a], [b]) => a - b);
  }

  /** The sampled items in row order. */
  values(): T[] {
    return this.entries().map(([, item]) => item);
  }

  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    [this.indices[a], this.indices[b]] = [this.indices[b], this.indices[a]];
    [this.items[a], this.items[b]] = [this.items[b], this.items[a]];
  }

  private siftUp(position: number): void {
    while (position > 0) {
      const parent = (position - 1) >> 1;
      if (this.keys[parent] >= this.keys[position]) return;
      this.swap(parent, position);
      position = parent;
    }
  }

  private siftDown(position: number): void {
    const size = this.keys.length;
    for (;;) {
      const left = 2 * position + 1;
      const right = left + 1;
      let largest = position;
      if (left < size && this.keys[left] > this.keys[largest]) largest = left;
      if (right < size && this.keys[right] > this.keys[largest]) largest = right;
      if (largest === position) return;
      this.swap(position, largest);
      position = largest;
    }
  }
}
