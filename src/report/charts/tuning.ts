// Tuning: the objective of each trial against its k, one point per trial, the chosen trial marked.
import type { TopLevelSpec } from 'vega-lite';

export interface TrialPoint {
  k: number;
  objective: number;
  /** Shown when sample_size was tuned too (empty otherwise). */
  sampleSize: string;
  chosen: boolean;
}

export function trialsSpec(points: TrialPoint[], metric: string): TopLevelSpec {
  const chosen = points.filter((point) => point.chosen);
  const bySampleSize = points.some((point) => point.sampleSize !== '');
  return {
    width: 360,
    height: 200,
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 60, color: '#4c78a8' },
        encoding: {
          x: { field: 'k', type: 'quantitative', title: 'k', scale: { zero: false } },
          y: { field: 'objective', type: 'quantitative', title: metric, scale: { zero: false } },
          ...(bySampleSize ? { color: { field: 'sampleSize', type: 'nominal', title: 'sample_size' } } : {}),
        },
      },
      {
        data: { values: chosen },
        mark: { type: 'point', shape: 'diamond', size: 220, filled: false, strokeWidth: 2, color: '#e45756' },
        encoding: { x: { field: 'k', type: 'quantitative' }, y: { field: 'objective', type: 'quantitative' } },
      },
      {
        data: { values: chosen },
        mark: { type: 'text', dy: -14, color: '#e45756', text: 'chosen' },
        encoding: { x: { field: 'k', type: 'quantitative' }, y: { field: 'objective', type: 'quantitative' } },
      },
    ],
  };
}
