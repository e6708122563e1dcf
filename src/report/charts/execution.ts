// The execution path as bars: time spent per state, in the order the states first ran.
import type { TopLevelSpec } from 'vega-lite';

export interface StateTime {
  state: string;
  seconds: number;
  /** Shown at the end of the bar, e.g. "2.31 s (3×)". */
  label: string;
  status: string;
}

const STATUS_COLORS = { succeeded: '#54a24b', failed: '#e45756', caught: '#f58518', running: '#9d9d9d' } as const;

export function executionPathSpec(states: StateTime[]): TopLevelSpec {
  const y = {
    field: 'state',
    type: 'nominal',
    title: null,
    scale: { domain: states.map((entry) => entry.state) },
  } as const;
  const x = { field: 'seconds', type: 'quantitative', title: 'seconds in state (all visits)' } as const;
  return {
    width: 420,
    height: { step: 18 },
    data: { values: states },
    layer: [
      {
        mark: { type: 'bar', cornerRadiusEnd: 2 },
        encoding: {
          y,
          x,
          color: {
            field: 'status',
            type: 'nominal',
            title: 'status',
            scale: { domain: Object.keys(STATUS_COLORS), range: Object.values(STATUS_COLORS) },
            // Below the chart: on the right it would collide with the duration label of the longest bar.
            legend: { orient: 'bottom', direction: 'horizontal' },
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#333' },
        encoding: { y, x, text: { field: 'label', type: 'nominal' } },
      },
    ],
  };
}
