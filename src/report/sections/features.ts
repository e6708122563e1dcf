// Feature engineering: which columns were dropped and one-hot encoded (and how they were chosen), the scaling fitted
// on the training rows with each numeric column's range before and after it, and PCA's explained variance.
import { renderChart } from '../charts/render';
import { explainedVarianceSpec, featureRangesSpec } from '../charts/features';
import { definitionTable, figure, paragraph, section, table, type ReportSection } from '../html';
import type { RunReportInput } from '../types';

const SCALERS = { none: 'none', standard: 'StandardScaler', minmax: 'MinMaxScaler' } as const;

export async function featuresSection({ features }: RunReportInput): Promise<ReportSection | null> {
  if (!features) return null;
  const { transform } = features;
  const categorical = features.categorical.length ? features.categorical.join(', ') : 'none';
  const overview: [string, string | number][] = [
    ['Dropped columns', features.dropped.length ? features.dropped.join(', ') : 'none'],
    [
      'Categorical columns',
      features.categoricalChoice === 'auto' ? `${categorical} (auto: every non-numeric column)` : categorical,
    ],
  ];
  if (!transform) {
    return section(
      'features',
      'Features',
      definitionTable(overview) +
        paragraph('No transform: the model was trained on the prepared rows as they are.', 'note'),
    );
  }
  overview.push(
    ['Scaling', SCALERS[transform.scaling]],
    [
      'PCA',
      transform.pca ? `${transform.pca.components.length} components (asked: ${transform.pca.requested})` : 'none',
    ],
    [
      'Model inputs',
      `${transform.outputFeatures.length} (${transform.outputFeatures.slice(0, 12).join(', ')}${transform.outputFeatures.length > 12 ? ', …' : ''})`,
    ],
    ['Fitted on', `${transform.fittedOn.rows} training rows (${transform.fittedOn.channel})`],
  );
  let html = definitionTable(overview);
  if (transform.numeric.length && transform.scaling !== 'none') {
    const scaled = (value: number, column: { center: number; scale: number }) => (value - column.center) / column.scale;
    const ranges = transform.numeric.flatMap((column) => [
      { feature: column.name, stage: 'raw' as const, min: column.min, max: column.max },
      {
        feature: column.name,
        stage: 'scaled' as const,
        min: scaled(column.min, column),
        max: scaled(column.max, column),
      },
    ]);
    html += figure(
      await renderChart(
        featureRangesSpec(ranges),
        'Training range of each numeric feature, raw and scaled',
        'feature-ranges',
      ),
      `Each numeric column’s range on the training rows, before and after ${SCALERS[transform.scaling]}.`,
    );
    html += table(
      ['feature', 'raw min', 'raw max', 'center', 'scale', 'scaled min', 'scaled max'],
      transform.numeric.map((column) => [
        column.name,
        column.min,
        column.max,
        column.center.toPrecision(6),
        column.scale.toPrecision(6),
        scaled(column.min, column).toFixed(3),
        scaled(column.max, column).toFixed(3),
      ]),
    );
  }
  if (transform.categorical.length) {
    html += table(
      ['categorical column', 'categories (one feature each; unseen ones encode as all zeros)'],
      transform.categorical.map((column) => [column.name, column.categories.join(', ')]),
    );
  }
  if (transform.pca) {
    const kept = transform.pca.components.length;
    let cumulative = 0;
    const components = transform.pca.explainedVarianceRatio.map((ratio, k) => {
      cumulative += ratio;
      return { component: `pca${k}`, ratio, cumulative, kept: k < kept };
    });
    html += figure(
      await renderChart(explainedVarianceSpec(components), 'PCA explained variance', 'pca-variance'),
      `Share of the training rows’ variance each component explains (bars) and the running total (line); the first ${kept} are kept.`,
    );
  }
  return section('features', 'Features', html);
}
