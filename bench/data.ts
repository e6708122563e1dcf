/** Seeded synthetic data for the benchmarks: the same seed gives the same float32 arrays on every machine. */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
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

/**
 * Streams a seeded CSV with a header to `file`: `rowCount` rows of `dim` features (`f0`…) and a `class` column
 * naming one of `classes` Gaussian clusters (standard deviation `spread`, centres uniform in [2, 8)^dim so that values
 * mostly have one digit before the point), values with 4 decimals. Never holds more than one block of rows.
 */
export async function writeClassesCsv(
  file: string,
  options: { rowCount: number; dim: number; classes: number; spread: number; seed: number },
): Promise<{ bytes: number; classNames: string[] }> {
  const { rowCount, dim, classes, spread, seed } = options;
  const generator = new MersenneTwister(seed);
  const uniform = (): number => (generator.nextUint32() + 0.5) / 2 ** 32;
  const centre = Array.from({ length: classes }, () => Array.from({ length: dim }, () => 2 + 6 * uniform()));
  const classNames = Array.from({ length: classes }, (_, i) => `c${i}`);
  const out = createWriteStream(file);
  const closed = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('error', reject);
  });
  let bytes = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${[...Array.from({ length: dim }, (_, d) => `f${d}`), 'class'].join(',')}\n`);
  const block = 10_000;
  const cells = new Array<string>(dim + 1);
  for (let first = 0; first < rowCount; first += block) {
    const lines: string[] = [];
    for (let row = first; row < Math.min(rowCount, first + block); row++) {
      const label = generator.nextUint32() % classes;
      for (let d = 0; d < dim; d++) {
        // Box–Muller: one standard normal per pair of draws.
        const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
        cells[d] = (centre[label][d] + spread * normal).toFixed(4);
      }
      cells[dim] = classNames[label];
      lines.push(cells.join(','));
    }
    await write(`${lines.join('\n')}\n`);
  }
  out.end();
  await closed;
  return { bytes, classNames };
}
