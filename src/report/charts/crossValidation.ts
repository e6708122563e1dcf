// Per-fold scores as bars, with the mean across folds as a rule.
import type { TopLevelSpec } from 'vega-lite';

export interface FoldScore {
  fold: string;
  value: number;
}

export function foldScoresSpec(scores: FoldScore[], metric: string, mean: number): TopLevelSpec {
  return {
    width: 360,
    height: 180,
    layer: [
      {
        data: { values: scores },
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x: { field: 'fold', type: 'ordinal', title: 'fold', axis: { labelAngle: 0 } },
          y: { field: 'value', type: 'quantitative', title: metric },
        },
      },
      {
        data: { values: [{ mean }] },
        mark: { type: 'rule', color: '#e45756', strokeDash: [4, 3] },
        encoding: { y: { field: 'mean', type: 'quantitative' } },
      },
    ],
  };
}
