// Every test row with its true and predicted label; the rows the model got wrong stand out.
import { paragraph, raw, section, table, type ReportSection } from '../html';
import { compactNumber, fixed } from '../format';
import { count, MAX_VALIDATION_ROWS } from '../sampling';
import { LARGE_ERROR_SHARE } from '../streamed';
import type { ClassifiedRow, RegressedRow, RunReportInput, ValidationDigest } from '../types';

export { MAX_VALIDATION_ROWS };

/** Notable rows (misses, large errors) first so a reviewer sees them at once, then the others, in test-row order. */
export function pickRows<T>(rows: T[], isNotable: (row: T) => boolean, max: number): T[] {
  const notable = rows.filter(isNotable).slice(0, max);
  const others = rows.filter((row) => !isNotable(row)).slice(0, max - notable.length);
  return [...notable, ...others];
}

function shownNote(shown: number, total: number, what: string): string {
  return shown < total
    ? paragraph(
        `Shows ${count(shown)} of ${count(total)} test rows (${what} first); predictions.csv has every row.`,
        'note',
      )
    : '';
}

/**
 * Given every row, the table picks them itself; read as a stream (digest), predictions.csv's counts and the rows to
 * list were kept while reading, the same ones.
 */
function classifierTable(
  rows: ClassifiedRow[],
  featureNames: string[],
  digest?: ValidationDigest<ClassifiedRow>,
): string {
  const total = digest?.testRows ?? rows.length;
  const misses = digest?.notableRows ?? rows.filter((row) => !row.match).length;
  const shown = digest?.tableRows ?? pickRows(rows, (row) => !row.match, MAX_VALIDATION_ROWS);
  const header = ['row', ...featureNames, 'true label', 'predicted label', 'match'];
  const body = shown.map((row) => [
    row.row,
    ...row.features.map(compactNumber),
    row.trueLabel,
    row.predictedLabel,
    raw(row.match ? '<span class="ok">✔</span>' : '<span class="miss-mark">✖ miss</span>'),
  ]);
  const numeric = new Set(Array.from({ length: featureNames.length + 1 }, (_, i) => i));
  const summary = paragraph(
    `${count(total)} test rows, ${count(misses)} misclassified${misses ? ' (highlighted, listed first)' : ''}.`,
  );
  return `${summary}\n${shownNote(shown.length, total, 'misclassified rows')}\n${table(header, body, {
    numericColumns: numeric,
    rowClass: (index) => (shown[index].match ? undefined : 'miss'),
    className: 'validation',
  })}`;
}

function largeErrorThreshold(rows: RegressedRow[]): number {
  const sorted = rows.map((row) => Math.abs(row.error)).sort((a, b) => b - a);
  const flagged = Math.max(1, Math.floor(sorted.length * LARGE_ERROR_SHARE));
  return Math.max(sorted[flagged - 1] ?? Infinity, Number.MIN_VALUE);
}

function regressorTable(rows: RegressedRow[], featureNames: string[], digest?: ValidationDigest<RegressedRow>): string {
  const threshold = digest?.largeErrorThreshold ?? largeErrorThreshold(rows);
  const isLarge = (row: RegressedRow) => Math.abs(row.error) >= threshold;
  const total = digest?.testRows ?? rows.length;
  const shown = digest?.tableRows ?? pickRows(rows, isLarge, MAX_VALIDATION_ROWS);
  const header = ['row', ...featureNames, 'true value', 'predicted value', 'error (predicted − true)'];
  const body = shown.map((row) => [
    row.row,
    ...row.features.map(compactNumber),
    compactNumber(row.trueValue),
    compactNumber(row.predictedValue),
    fixed(row.error),
  ]);
  const numeric = new Set(Array.from({ length: featureNames.length + 4 }, (_, i) => i));
  const summary = paragraph(
    `${count(total)} test rows; the rows with the largest absolute errors (worst tenth) are highlighted and listed first.`,
  );
  return `${summary}\n${shownNote(shown.length, total, 'largest errors')}\n${table(header, body, {
    numericColumns: numeric,
    rowClass: (index) => (isLarge(shown[index]) ? 'miss' : undefined),
    className: 'validation',
  })}`;
}

export function validationSection({ outcome, dataset }: RunReportInput): ReportSection {
  const body =
    outcome.predictorType === 'classifier'
      ? classifierTable(outcome.validation, dataset.featureNames, outcome.digest)
      : regressorTable(outcome.validation, dataset.featureNames, outcome.digest);
  return section('validation', 'Validation table', body);
}
