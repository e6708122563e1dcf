// k-fold cross-validation: each fold's score on its held-out rows, the mean ± standard deviation, and the spread flag.
import { renderChart } from '../charts/render';
import { foldScoresSpec } from '../charts/crossValidation';
import { figure, paragraph, section, table, type ReportSection } from '../html';
import type { RunReportInput } from '../types';

export async function crossValidationSection({ crossValidation }: RunReportInput): Promise<ReportSection> {
  if (!crossValidation) {
    return section(
      'cross-validation',
      'Cross-validation',
      paragraph('Not requested for this run (execution input crossValidation.folds).', 'note'),
    );
  }
  const names = Object.keys(crossValidation.metrics);
  const headline = names[0];
  const rows = crossValidation.perFold.map((fold) => [
    fold.fold,
    fold.trainRows,
    fold.testRows,
    ...names.map((name) => (fold.metrics[name] === undefined ? '' : fold.metrics[name].toFixed(4))),
  ]);
  const summary = names.map((name) => {
    const m = crossValidation.metrics[name];
    return [name, m.mean.toFixed(4), m.std.toFixed(4), m.min.toFixed(4), m.max.toFixed(4)];
  });
  const chart = headline
    ? figure(
        await renderChart(
          foldScoresSpec(
            crossValidation.perFold.map((fold) => ({ fold: String(fold.fold), value: fold.metrics[headline] ?? 0 })),
            headline,
            crossValidation.metrics[headline].mean,
          ),
          `${headline} per fold`,
          'cv-folds',
        ),
        `${headline} of each fold on its held-out rows; the dashed line is the mean.`,
      )
    : '';
  return section(
    'cross-validation',
    'Cross-validation',
    paragraph(crossValidation.message, crossValidation.highSpread ? 'warning' : undefined) +
      chart +
      table(['fold', 'train rows', 'test rows', ...names], rows) +
      table(['metric', 'mean', 'std', 'min', 'max'], summary),
  );
}
