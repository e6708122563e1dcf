// Feature engineering: each numeric column's training range before and after scaling, and PCA's explained variance.
import type { TopLevelSpec } from 'vega-lite';

export interface FeatureRange {
  feature: string;
  stage: 'raw' | 'scaled';
  min: number;
  max: number;
}

export function featureRangesSpec(ranges: FeatureRange[]): TopLevelSpec {
  return {
    data: { values: ranges },
    facet: { column: { field: 'stage', type: 'nominal', title: null, sort: ['raw', 'scaled'] } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 240,
      height: { step: 16 },
      mark: { type: 'bar', color: '#4c78a8', height: 10 },
      encoding: {
        y: { field: 'feature', type: 'nominal', title: null, sort: null },
        x: { field: 'min', type: 'quantitative', title: 'training range' },
        x2: { field: 'max' },
      },
    },
  };
}

export interface ComponentVariance {
  component: string;
  ratio: number;
  cumulative: number;
  kept: boolean;
}

export function explainedVarianceSpec(components: ComponentVariance[]): TopLevelSpec {
  return {
    width: 360,
    height: 180,
    data: { values: components },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'component', type: 'ordinal', sort: null, title: 'component', axis: { labelAngle: 0 } },
          y: { field: 'ratio', type: 'quantitative', title: 'explained variance ratio', scale: { domain: [0, 1] } },
          color: {
            field: 'kept',
            type: 'nominal',
            scale: { domain: [true, false], range: ['#4c78a8', '#c7c7c7'] },
            legend: { title: 'kept' },
          },
        },
      },
      {
        mark: { type: 'line', point: true, color: '#e45756' },
        encoding: {
          x: { field: 'component', type: 'ordinal', sort: null },
          y: { field: 'cumulative', type: 'quantitative' },
        },
      },
    ],
  };
}
