// How the deployed endpoint did on the test rows: the confusion matrix or predicted-vs-true chart, and the metrics.
import { renderChart } from '../charts/render';
import { confusionHeatmapSpec, predictedVsTrueSpec } from '../charts/evaluation';
import { escapeHtml, figure, paragraph, raw, section, table, type ReportSection } from '../html';
import { fixed } from '../format';
import { count, evenlySpaced, MAX_REGRESSION_CHART_POINTS, sampledRows } from '../sampling';
import type { ClassifierMetrics, GateResult, RegressionMetrics, RunReportInput } from '../types';

export { MAX_REGRESSION_CHART_POINTS };

export async function evaluationChartSection({ outcome, dataset }: RunReportInput): Promise<ReportSection> {
  if (outcome.predictorType === 'classifier') {
    const classes = dataset.classes ?? outcome.metrics.perClass.map((entry) => entry.label);
    const svg = await renderChart(
      confusionHeatmapSpec(classes, outcome.metrics.confusionMatrix),
      'Confusion matrix',
      'confusion-matrix',
    );
    const caption =
      'Rows: true class; columns: predicted class. Numbers are test rows; colour is the share of the true class.';
    return section('confusion-matrix', 'Confusion matrix', figure(svg, caption));
  }
  const shown = evenlySpaced(outcome.validation, MAX_REGRESSION_CHART_POINTS);
  const svg = await renderChart(
    predictedVsTrueSpec(shown, dataset.labelColumn),
    'Predicted against true values',
    'predicted-vs-true',
  );
  // Streamed: the rows are already a uniform sample of every test row. Given whole: thinned at even intervals.
  const origin = outcome.digest?.sampledFrom;
  const sampled = origin
    ? ` Shows ${sampledRows(shown.length, origin, 'test rows')}.`
    : shown.length < outcome.validation.length
      ? ` Shows ${count(shown.length)} of ${count(outcome.validation.length)} test rows, evenly spaced.`
      : '';
  return section(
    'predicted-vs-true',
    'Predicted vs true',
    figure(svg, `Each test row; the dashed line is a perfect prediction.${sampled}`),
  );
}

function classifierMetricsTable(metrics: ClassifierMetrics): string {
  const total = metrics.perClass.reduce((sum, entry) => sum + entry.support, 0);
  const rows = [
    ...metrics.perClass.map((entry) => [
      entry.label,
      fixed(entry.precision),
      fixed(entry.recall),
      fixed(entry.f1),
      entry.support,
    ]),
    [
      raw('<strong>macro average</strong>'),
      fixed(metrics.macroPrecision),
      fixed(metrics.macroRecall),
      fixed(metrics.macroF1),
      total,
    ],
    [
      raw('<strong>weighted average</strong>'),
      fixed(metrics.weightedPrecision),
      fixed(metrics.weightedRecall),
      fixed(metrics.weightedF1),
      total,
    ],
    [raw('<strong>accuracy</strong>'), '', '', fixed(metrics.accuracy), total],
  ];
  return table(['class', 'precision', 'recall', 'F1', 'support'], rows, {
    numericColumns: new Set([1, 2, 3, 4]),
    className: 'metrics',
  });
}

function regressorMetricsTable(metrics: RegressionMetrics): string {
  const rows = [
    ['MSE', 'mean squared error', fixed(metrics.mse)],
    ['RMSE', 'root mean squared error', fixed(metrics.rmse)],
    ['MAE', 'mean absolute error', fixed(metrics.mae)],
    ['R²', 'coefficient of determination', fixed(metrics.r2)],
  ];
  return table(['metric', 'meaning', 'value'], rows, { numericColumns: new Set([2]), className: 'metrics' });
}

function gateParagraph(gate: GateResult | null): string {
  if (!gate) return paragraph('No quality gate result was recorded.', 'note');
  // The gate's message already starts with its verdict ("Quality gate passed: …").
  return `<p class="gate ${gate.passed ? 'pass' : 'fail'}">${escapeHtml(gate.message)}</p>`;
}

export function metricsSection({ outcome, gate }: RunReportInput): ReportSection {
  const metricsTable =
    outcome.predictorType === 'classifier'
      ? classifierMetricsTable(outcome.metrics)
      : regressorMetricsTable(outcome.metrics);
  return section('metrics', 'Metrics', `${gateParagraph(gate)}\n${metricsTable}`);
}
