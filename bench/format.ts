/** Plain-text tables and number formats for the benchmark report. */

export function table(
  headers: string[],
  rows: string[][],
  rightAligned: boolean[] = headers.map((_, i) => i > 0),
): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (rightAligned[i] ? (cell ?? '').padStart(widths[i]) : (cell ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function ms(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 10) return `${value.toFixed(0)} ms`;
  return `${value.toFixed(1)} ms`;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Mebibytes, the unit of Lambda's memorySize and "Max Memory Used". */
export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function grouped(value: number): string {
  return value.toLocaleString('en-US');
}

/** The same rows as a Markdown table (what the README quotes), numbers right-aligned. */
export function markdownTable(
  headers: string[],
  rows: string[][],
  rightAligned: boolean[] = headers.map((_, i) => i > 0),
): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map((_, i) => (rightAligned[i] ? '---:' : '---'))), ...rows.map(line)].join('\n');
}
