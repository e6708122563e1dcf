// Text for people: durations, dates, statuses and aligned tables, the same in npm start and knn-pipeline.

export { formatDuration } from '../../local/progress';
const STATUS_MARKS: Record<string, string> = {
  SUCCEEDED: '✔',
  FAILED: '✖',
  ABORTED: '■',
  TIMED_OUT: '⏱',
  RUNNING: '▶',
  PENDING_REDRIVE: '↻',
};

/** `✔ SUCCEEDED`, `✖ FAILED`, `■ ABORTED`…: the status readable at a glance. */
export function statusLabel(status: string | undefined): string {
  return `${STATUS_MARKS[status ?? ''] ?? '?'} ${status ?? 'UNKNOWN'}`;
}

/** Local wall-clock time, to the second. */
export function formatDate(date: Date | undefined): string {
  if (!date) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A plain-text table: a header row, then rows; `right` names the columns aligned right (numbers). */
export function table(header: string[], rows: string[][], right: number[] = []): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => [...(row[c] ?? '')].length)));
  return all
    .map((row) =>
      row
        .map((cell = '', c) => {
          const padding = ' '.repeat(widths[c] - [...cell].length);
          return right.includes(c) ? padding + cell : cell + padding;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function metricValue(value: unknown): string {
  return typeof value === 'number' ? value.toFixed(4) : '';
}
