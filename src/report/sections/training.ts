// The SageMaker training job: hyperparameters, the algorithm's own final metrics, billing and status history.
import { definitionTable, paragraph, section, table, type ReportSection } from '../html';
import { fixed, timestamp } from '../format';
import type { RunReportInput } from '../types';

export function trainingSection({ training }: RunReportInput): ReportSection {
  if (!training)
    return section('training', 'Training', paragraph('No training job summary was recorded for this run.'));
  const facts = definitionTable([
    ['Training job', training.trainingJobName ?? '—'],
    ['Billable time', training.billableSeconds === null ? '—' : `${training.billableSeconds} s`],
  ]);
  const hyperParameters = Object.entries(training.hyperParameters).sort(([a], [b]) => a.localeCompare(b));
  const parts = [
    facts,
    '<h3>Hyperparameters</h3>',
    hyperParameters.length ? table(['name', 'value'], hyperParameters) : paragraph('None recorded.'),
    '<h3>Final metrics reported by the training job</h3>',
    training.finalMetrics.length
      ? table(
          ['metric', 'value'],
          training.finalMetrics.map((metric) => [metric.MetricName, fixed(metric.Value)]),
          { numericColumns: new Set([1]) },
        )
      : paragraph('None reported.'),
  ];
  if (training.statusTransitions.length) {
    parts.push(
      '<h3>Status history</h3>',
      table(
        ['status', 'start', 'end', 'message'],
        training.statusTransitions.map((t) => [
          t.Status,
          timestamp(t.StartTime),
          timestamp(t.EndTime),
          t.StatusMessage ?? '',
        ]),
      ),
    );
  }
  return section('training', 'Training', parts.join('\n'));
}
