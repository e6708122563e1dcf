// Charts of the dataset itself: class balance (or target distribution) and the scatter matrix.
// User strings (feature and class names) only ever appear as data values or titles, never as field names,
// because Vega-Lite reads dots and brackets in field names as nested access.
import type { TopLevelSpec } from 'vega-lite';
import type { ScatterSample } from '../sampling';
import { classColorScale, TARGET_SCHEME } from './palette';

const BAR_HEIGHT = 22;

export function classBalanceSpec(classes: string[], counts: Record<string, number>, labelColumn: string): TopLevelSpec {
  const values = classes.map((name) => ({ name, count: counts[name] ?? 0 }));
  const y = { field: 'name', type: 'nominal', title: labelColumn, scale: { domain: classes } } as const;
  return {
    width: 360,
    height: { step: BAR_HEIGHT },
    data: { values },
    layer: [
      {
        mark: { type: 'bar', cornerRadiusEnd: 2 },
        encoding: {
          y,
          x: { field: 'count', type: 'quantitative', title: 'rows' },
          color: { field: 'name', type: 'nominal', scale: classColorScale(classes), legend: null },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, color: '#333' },
        encoding: { y, x: { field: 'count', type: 'quantitative' }, text: { field: 'count', type: 'quantitative' } },
      },
    ],
  };
}

export function targetHistogramSpec(targets: number[], labelColumn: string): TopLevelSpec {
  return {
    width: 360,
    height: 160,
    data: { values: targets.map((value) => ({ value })) },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: { field: 'value', type: 'quantitative', bin: { maxbins: 30 }, title: labelColumn },
      y: { aggregate: 'count', type: 'quantitative', title: 'rows' },
    },
  };
}

/** Feature columns get positional names (f0, f1, …) so that no user text ever becomes a field name. */
function featureField(index: number): string {
  return `f${index}`;
}

/**
 * The lower triangle of a scatter matrix, each pair of features once, as rows of cells that share one dataset.
 * Concatenated cells rather than a facet: a facet with missing row/column combinations misplaces its cells.
 */
export function scatterMatrixSpec(sample: ScatterSample, classes: string[] | null, labelColumn: string): TopLevelSpec {
  const names = sample.featureNames;
  const cellSize = names.length > 4 ? 110 : 150;
  const values = sample.points.map((point) => ({
    target: point.target,
    ...Object.fromEntries(point.features.map((value, index) => [featureField(index), value])),
  }));
  const color = classes
    ? ({ field: 'target', type: 'nominal', title: labelColumn, scale: classColorScale(classes) } as const)
    : ({ field: 'target', type: 'quantitative', title: labelColumn, scale: { scheme: TARGET_SCHEME } } as const);
  const position = (index: number, showTitle: boolean) =>
    ({
      field: featureField(index),
      type: 'quantitative',
      scale: { zero: false, nice: true },
      axis: { title: showTitle ? names[index] : null, tickCount: 4, labelFontSize: 9 },
    }) as const;
  // A fixed y-axis extent keeps the cells of every row in the same columns whatever their tick labels are.
  const yPosition = (index: number, showTitle: boolean) => {
    const base = position(index, showTitle);
    return { ...base, axis: { ...base.axis, minExtent: 30, maxExtent: 30 } } as const;
  };
  const lastRow = names.length - 1;
  const rows = Array.from({ length: lastRow }, (_, rowIndex) => {
    const yIndex = rowIndex + 1;
    return {
      hconcat: Array.from({ length: yIndex }, (_, xIndex) => ({
        width: cellSize,
        height: cellSize,
        mark: { type: 'circle' as const, size: 14, opacity: 0.75 },
        encoding: { x: position(xIndex, yIndex === lastRow), y: yPosition(yIndex, xIndex === 0), color },
      })),
    } as const;
  });
  return { data: { values }, spacing: 10, vconcat: rows, resolve: { scale: { color: 'shared' } } };
}
