// Keeps the scatter matrix readable and the HTML small however wide or long the dataset is.
import type { LabelledPoint } from './types';

/** 6 features give 15 pairs: still legible on one screen. */
export const MAX_SCATTER_FEATURES = 6;
/** 300 points × 15 pairs stays around half a megabyte of SVG in the worst case. */
export const MAX_SCATTER_POINTS = 300;

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

/** What the caption must admit about the sample, or null when everything is drawn. */
export function describeSample(sample: ScatterSample): string | null {
  const notes: string[] = [];
  if (sample.totalFeatures > sample.featureNames.length) {
    notes.push(`only the first ${sample.featureNames.length} of ${sample.totalFeatures} features`);
  }
  if (sample.totalPoints > sample.points.length) {
    notes.push(`${sample.points.length} of ${sample.totalPoints} rows, sampled deterministically at even intervals`);
  }
  return notes.length ? `Shows ${notes.join(' and ')}.` : null;
}
