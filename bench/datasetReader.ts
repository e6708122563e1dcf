/**
 * Throughput of Prepare's validation and encoding (src/domain/datasetReader.ts) on a 1,000,000-row × 16-feature
 * numeric CSV (~120 MB, 5 classes), the file of issue 13: `npx tsx bench/datasetReader.ts [--rows N] [--oracle]`.
 *
 * The file is generated once (seeded, bench/data.ts's clusters, values with 4 decimals, a text label last) under the
 * temporary directory. Timed, each in a fresh process state and then best of 3:
 * - the reader alone, fed chunks already in memory (64 KiB, what an S3 body stream yields, and 1 MiB), each chunk
 *   its own Buffer as a stream hands them over;
 * - the reader fed by a file stream of 64 KiB chunks (reading the file included).
 * Also timed: the same rows with every label quoted (R's write.csv style). --oracle adds the in-memory reader it
 * replaced (test/unit/domain/support/inMemoryDataset.ts, the whole file at once; needs about 2 GB). Above 2M rows
 * only the file stream is timed.
 * Wall clock and CPU time are both printed: on a shared machine the CPU time says what the reader costs.
 */
import {
  appendFileSync,
  createReadStream,
  existsSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DatasetReader } from '../src/domain/datasetReader';
import { prepareDataset as prepareInMemory } from '../test/unit/domain/support/inMemoryDataset';
import { clusteredCsv } from './data';

const FEATURES = 16;
const CLASSES = 5;

const BATCH_ROWS = 100_000;

/** Written in batches of rows (each batch its own row seed), so that 10M rows never make one string. */
function datasetFile(rows: number, quotedLabels: boolean): string {
  const file = path.join(tmpdir(), `knn-bench-${rows}x${FEATURES}${quotedLabels ? '-quoted' : ''}.csv`);
  if (existsSync(file)) return file;
  const partial = `${file}.partial`;
  writeFileSync(partial, `${[...Array.from({ length: FEATURES }, (_, j) => `f${j}`), 'label'].join(',')}\n`);
  for (let batch = 0; batch * BATCH_ROWS < rows; batch++) {
    const body = clusteredCsv(Math.min(BATCH_ROWS, rows - batch * BATCH_ROWS), FEATURES, CLASSES, 1, 1, 2 + batch);
    const lines: string[] = [];
    for (let start = 0; start < body.length;) {
      const end = body.indexOf('\n', start);
      const line = body.slice(start, end);
      start = end + 1;
      // clusteredCsv writes the label first: move it last, as a text label.
      const comma = line.indexOf(',');
      const label = `class${line.slice(0, comma)}`;
      lines.push(`${line.slice(comma + 1)},${quotedLabels ? `"${label}"` : label}\n`);
    }
    appendFileSync(partial, lines.join(''));
  }
  renameSync(partial, file);
  return file;
}

interface Run {
  ms: number;
  cpuMs: number;
  rows: number;
}

async function timeReader(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Run> {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const reader = new DatasetReader({ source: 's3://bench/raw.csv', labelColumn: 'label', predictorType: 'classifier' });
  let outputLength = 0;
  for await (const chunk of chunks) outputLength += reader.push(chunk).length;
  const end = reader.finish();
  outputLength += end.text.length;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const { user, system } = process.cpuUsage(cpu);
  if (outputLength === 0) throw new Error('no output');
  return { ms, cpuMs: (user + system) / 1000, rows: end.summary.rowCount };
}

/** Best of the runs, wall clock and CPU time (the machine may be shared: CPU time says what the reader costs). */
function report(label: string, size: number, runs: Run[]): void {
  const first = runs[0];
  const best = Math.min(...runs.map((run) => run.ms));
  const bestCpu = Math.min(...runs.map((run) => run.cpuMs));
  const rate = (ms: number) => `${(size / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
  console.log(
    `${label.padEnd(34)} ${(size / 1e6).toFixed(1)} MB  first run ${rate(first.ms)}  ` +
      `best of ${runs.length}: wall ${best.toFixed(0)} ms ${rate(best)}, CPU ${bestCpu.toFixed(0)} ms ${rate(bestCpu)}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '1000000' }, oracle: { type: 'boolean', default: false } },
  });
  const rows = Number(values.rows);
  for (const quoted of [false, true]) {
    const file = datasetFile(rows, quoted);
    const size = statSync(file).size;
    console.log(`${file}: ${rows} rows × ${FEATURES} features${quoted ? ', quoted labels' : ''}`);
    // Above 2M rows (240 MB), only the file stream: the chunks would not be held in memory.
    if (rows <= 2_000_000) {
      const bytes = readFileSync(file);
      for (const chunkSize of [1 << 16, 1 << 20]) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < size; at += chunkSize) chunks.push(Buffer.from(bytes.subarray(at, at + chunkSize)));
        const runs: Run[] = [];
        for (let rep = 0; rep < 3; rep++) runs.push(await timeReader(chunks));
        if (runs[0].rows !== rows) throw new Error(`read ${runs[0].rows} rows, expected ${rows}`);
        report(`  ${chunkSize / 1024} KiB chunks in memory`, size, runs);
      }
      if (values.oracle) {
        const started = process.hrtime.bigint();
        const cpu = process.cpuUsage();
        prepareInMemory(bytes, { source: 's3://bench/raw.csv', labelColumn: 'label', predictorType: 'classifier' });
        const { user, system } = process.cpuUsage(cpu);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        report('  in-memory reader (before)', size, [{ ms, cpuMs: (user + system) / 1000, rows }]);
      }
    }
    const streamed: Run[] = [];
    for (let rep = 0; rep < 3; rep++)
      streamed.push(await timeReader(createReadStream(file, { highWaterMark: 1 << 16 })));
    if (streamed[0].rows !== rows) throw new Error(`read ${streamed[0].rows} rows, expected ${rows}`);
    report('  64 KiB chunks from a file stream', size, streamed);
  }
  console.log(`peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
