// Number formats shared by the report's tables and headline tiles.

export function fixed(value: number | null | undefined, digits = 4): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

export function percent(value: number | null | undefined, digits = 1): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(value * 100).toFixed(digits)} %` : '—';
}

/** Feature values as the CSV had them, without float noise such as 5.1000000000000005. */
export function compactNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

export function durationMs(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Cents for real money, four decimals for a short run, and no false "$0.0000" for a few seconds of use. */
export function usd(amount: number): string {
  if (amount === 0) return '$0';
  if (amount < 0.0001) return '< $0.0001';
  return amount < 0.01 ? `$${amount.toFixed(4)}` : `$${amount.toFixed(2)}`;
}

/** SageMaker reports times as ISO strings, epoch seconds or epoch milliseconds depending on the path they took. */
export function timestamp(value: string | number | Date | undefined): string {
  if (value === undefined) return '—';
  const date =
    value instanceof Date
      ? value
      : typeof value === 'number'
        ? new Date(value < 1e12 ? value * 1000 : value)
        : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace('.000Z', 'Z');
}
