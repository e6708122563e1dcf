// What the run cost, roughly: instance-seconds and a dated list-price estimate.
import { estimateCost, INSTANCE_PRICES } from '../cost';
import { usd } from '../format';
import { paragraph, section, table, type ReportSection } from '../html';
import type { RunReportInput } from '../types';

export function costSection({ cost }: RunReportInput): ReportSection {
  const title = 'Estimated cost';
  if (!cost) return section('cost', title, paragraph('No instance usage was recorded for this run.', 'note'));
  const estimate = estimateCost(cost);
  const rows = estimate.lines.map((line) => [
    line.use === 'training' ? 'training job (billable time)' : 'endpoint (lifetime)',
    line.instanceType,
    line.instanceCount,
    line.seconds === null ? 'unknown' : `${line.seconds} s`,
    line.instanceSeconds === null ? 'unknown' : `${line.instanceSeconds} s`,
    line.usdPerHour === null ? 'not in table' : `$${line.usdPerHour}/h`,
    line.usd === null ? '—' : usd(line.usd),
  ]);
  const total =
    estimate.totalUsd === null
      ? ''
      : paragraph(`Estimated total: ${usd(estimate.totalUsd)} of SageMaker instance time.`);
  const note = paragraph(
    `Prices are ${INSTANCE_PRICES.description}; storage, data transfer, Lambda and Step Functions are not included. ` +
      'An instance type missing from the table is shown in seconds only.',
    'note',
  );
  const body = table(['use', 'instance type', 'count', 'seconds', 'instance-seconds', 'list price', 'estimate'], rows, {
    numericColumns: new Set([2, 3, 4, 5, 6]),
  });
  return section('cost', title, `${body}\n${total}\n${note}`);
}
