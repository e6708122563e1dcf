/** Seeded synthetic data for the benchmarks: the same seed gives the same float32 arrays on every machine. */
import { MersenneTwister } from '../src/domain/random';

/** `count × dim` float32 values uniform in [0, 1) (what faiss's own benchmarks use for flat indexes). */
export function uniformRows(count: number, dim: number, seed: number): Float32Array {
  const generator = new MersenneTwister(seed);
  const rows = new Float32Array(count * dim);
  for (let i = 0; i < rows.length; i++) rows[i] = generator.nextUint32() / 2 ** 32;
  return rows;
}

/**
 * Label-first CSV rows (no header) drawn from `classes` Gaussian clusters (standard deviation `spread`, centres
 * uniform in [0, 10)^dim, depending only on `seed`) in `dim` dimensions, values with 4 decimals.
 */
export function clusteredCsv(
  rowCount: number,
  dim: number,
  classes: number,
  spread: number,
  seed: number,
  rowSeed: number,
): string {
  const centres = new MersenneTwister(seed);
  const centre = Array.from({ length: classes }, () =>
    Array.from({ length: dim }, () => (10 * centres.nextUint32()) / 2 ** 32),
  );
  const generator = new MersenneTwister(rowSeed);
  const uniform = (): number => (generator.nextUint32() + 0.5) / 2 ** 32;
  const lines = new Array<string>(rowCount);
  const cells = new Array<string>(dim + 1);
  for (let row = 0; row < rowCount; row++) {
    const label = generator.nextUint32() % classes;
    cells[0] = String(label);
    for (let d = 0; d < dim; d++) {
      // Box–Muller: one standard normal per pair of draws.
      const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      cells[d + 1] = (centre[label][d] + spread * normal).toFixed(4);
    }
    lines[row] = cells.join(',');
  }
  return `${lines.join('\n')}\n`;
}
