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

interface PairPoint {
  xName: string;
  xIndex: number;
  yName: string;
  yIndex: number;
  x: number;
  y: number;
  target: string | number;
}

/** Long form: one record per point per feature pair (lower triangle, each pair once). */
function pairPoints(sample: ScatterSample): PairPoint[] {
  const records: PairPoint[] = [];
  const names = sample.featureNames;
  for (let yIndex = 1; yIndex < names.length; yIndex++) {
    for (let xIndex = 0; xIndex < yIndex; xIndex++) {
      for (const point of sample.points) {
        const [x, y] = [point.features[xIndex], point.features[yIndex]];
        records.push({ xName: names[xIndex], xIndex, yName: names[yIndex], yIndex, x, y, target: point.target });
      }
    }
  }
  return records;
}

/** Needs at least two features; classes null means a regressor, coloured by its target value. */
export function scatterMatrixSpec(sample: ScatterSample, classes: string[] | null, labelColumn: string): TopLevelSpec {
  const cellSize = sample.featureNames.length > 4 ? 110 : 140;
  const color = classes
    ? ({ field: 'target', type: 'nominal', title: labelColumn, scale: classColorScale(classes) } as const)
    : ({ field: 'target', type: 'quantitative', title: labelColumn, scale: { scheme: TARGET_SCHEME } } as const);
  const axis = { title: null, tickCount: 4, labelFontSize: 9, grid: true } as const;
  return {
    data: { values: pairPoints(sample) },
    facet: {
      row: { field: 'yName', type: 'nominal', sort: { field: 'yIndex', op: 'min' }, header: { labelAngle: -90 }, title: null },
      column: { field: 'xName', type: 'nominal', sort: { field: 'xIndex', op: 'min' }, header: { labelOrient: 'bottom' }, title: null },
    },
    spacing: 8,
    spec: {
      width: cellSize,
      height: cellSize,
      mark: { type: 'circle', size: 14, opacity: 0.75 },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: { zero: false, nice: true }, axis },
        y: { field: 'y', type: 'quantitative', scale: { zero: false, nice: true }, axis },
        color,
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
}
