// Charts of the evaluation on the test rows: confusion matrix (classifier) or predicted against true (regressor).
import type { TopLevelSpec } from 'vega-lite';
import type { RegressedRow } from '../types';

/** Cells coloured by the share of their true class, so a small class's mistakes show as clearly as a large one's. */
export function confusionHeatmapSpec(classes: string[], matrix: number[][]): TopLevelSpec {
  const values = matrix.flatMap((row, trueIndex) => {
    const support = row.reduce((sum, count) => sum + count, 0);
    return row.map((count, predictedIndex) => ({
      actual: classes[trueIndex] ?? String(trueIndex),
      predicted: classes[predictedIndex] ?? String(predictedIndex),
      count,
      share: support === 0 ? 0 : count / support,
    }));
  });
  const step = classes.length > 12 ? 22 : 48;
  const x = {
    field: 'predicted',
    type: 'nominal',
    title: 'predicted class',
    scale: { domain: classes },
    axis: { orient: 'top', labelAngle: -40 },
  } as const;
  const y = { field: 'actual', type: 'nominal', title: 'true class', scale: { domain: classes } } as const;
  return {
    width: { step },
    height: { step },
    data: { values },
    layer: [
      {
        mark: { type: 'rect', stroke: '#fff', strokeWidth: 1 },
        encoding: {
          x,
          y,
          color: {
            field: 'share',
            type: 'quantitative',
            title: 'share of true class',
            scale: { domain: [0, 1], range: ['#f6f8fa', '#08519c'] },
            legend: { format: '.0%' },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: classes.length > 12 ? 8 : 12 },
        encoding: {
          x,
          y,
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: '#fff' }, value: '#222' },
        },
      },
    ],
  };
}

export function predictedVsTrueSpec(rows: RegressedRow[], labelColumn: string): TopLevelSpec {
  let [low, high] = [Infinity, -Infinity];
  for (const row of rows) {
    low = Math.min(low, row.trueValue, row.predictedValue);
    high = Math.max(high, row.trueValue, row.predictedValue);
  }
  // Both layers carry the same titles, or Vega-Lite would join the field names into the axis title.
  const x = { type: 'quantitative', title: `true ${labelColumn}`, scale: { zero: false } } as const;
  const y = { type: 'quantitative', title: `predicted ${labelColumn}`, scale: { zero: false } } as const;
  return {
    width: 360,
    height: 360,
    layer: [
      {
        data: { values: [{ v: low }, { v: high }] },
        mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
        encoding: { x: { ...x, field: 'v' }, y: { ...y, field: 'v' } },
      },
      {
        data: {
          values: rows.map((row) => ({
            actual: row.trueValue,
            predicted: row.predictedValue,
            error: Math.abs(row.error),
          })),
        },
        mark: { type: 'circle', size: 30, opacity: 0.8 },
        encoding: {
          x: { ...x, field: 'actual' },
          y: { ...y, field: 'predicted' },
          color: { field: 'error', type: 'quantitative', title: '|error|', scale: { scheme: 'orangered' } },
        },
      },
    ],
    resolve: { scale: { x: 'shared', y: 'shared' } },
  };
}
