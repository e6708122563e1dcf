/**
 * Throughput of Prepare's validation and encoding (src/domain/datasetReader.ts) on a 1,000,000-row × 16-feature
 * numeric CSV (~120 MB, 5 classes), the file of issue 13: `npx tsx bench/datasetReader.ts [--rows N] [--oracle]`.
 *
 * The file is generated once (seeded, bench/data.ts's clusters, values with 4 decimals, a text label last) under the
 * temporary directory and read into memory, so only the reader is timed: pushed in 64 KiB chunks (what an S3 body
 * stream yields) and in 1 MiB chunks, best of 3. Also timed: the same rows with every label quoted (R's
 * write.csv style), which goes through csv-parse. --oracle adds the in-memory reader it replaced
 * (test/unit/domain/support/inMemoryDataset.ts, the whole file at once; needs about 2 GB).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DatasetReader } from '../src/domain/datasetReader';
import { prepareDataset as prepareInMemory } from '../test/unit/domain/support/inMemoryDataset';
import { clusteredCsv } from './data';

const FEATURES = 16;
const CLASSES = 5;

function datasetFile(rows: number, quotedLabels: boolean): string {
  const file = path.join(tmpdir(), `knn-bench-${rows}x${FEATURES}${quotedLabels ? '-quoted' : ''}.csv`);
  if (existsSync(file)) return file;
  const body = clusteredCsv(rows, FEATURES, CLASSES, 1, 1, 2);
  const header = [...Array.from({ length: FEATURES }, (_, j) => `f${j}`), 'label'].join(',');
  const parts = [header];
  for (let start = 0; start < body.length;) {
    const end = body.indexOf('\n', start);
    const line = body.slice(start, end);
    start = end + 1;
    const comma = line.indexOf(',');
    const label = `class${line.slice(0, comma)}`;
    parts.push(`${line.slice(comma + 1)},${quotedLabels ? `"${label}"` : label}`);
  }
  writeFileSync(file, `${parts.join('\n')}\n`);
  return file;
}

function timeReader(bytes: Buffer, chunkSize: number): { ms: number; outputBytes: number; rows: number } {
  const started = process.hrtime.bigint();
  const reader = new DatasetReader({ source: 's3://bench/raw.csv', labelColumn: 'label', predictorType: 'classifier' });
  let outputBytes = 0;
  for (let at = 0; at < bytes.length; at += chunkSize) {
    outputBytes += reader.push(bytes.subarray(at, Math.min(bytes.length, at + chunkSize))).length;
  }
  const end = reader.finish();
  outputBytes += end.text.length;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, outputBytes, rows: end.summary.rowCount };
}

function report(label: string, bytes: Buffer, runs: number[]): void {
  const best = Math.min(...runs);
  const mbPerSecond = bytes.length / 1e6 / (best / 1000);
  console.log(
    `${label.padEnd(44)} ${(bytes.length / 1e6).toFixed(1)} MB  best ${best.toFixed(0)} ms  ` +
      `(${runs.map((ms) => ms.toFixed(0)).join(', ')})  ${mbPerSecond.toFixed(0)} MB/s`,
  );
}

function main(): void {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '1000000' }, oracle: { type: 'boolean', default: false } },
  });
  const rows = Number(values.rows);
  for (const quoted of [false, true]) {
    const file = datasetFile(rows, quoted);
    const bytes = readFileSync(file);
    console.log(`${file}: ${rows} rows × ${FEATURES} features${quoted ? ', quoted labels' : ''}`);
    for (const chunkSize of [1 << 16, 1 << 20]) {
      const runs: number[] = [];
      let result: ReturnType<typeof timeReader> | undefined;
      for (let rep = 0; rep < 3; rep++) {
        result = timeReader(bytes, chunkSize);
        runs.push(result.ms);
      }
      if (result!.rows !== rows) throw new Error(`read ${result!.rows} rows, expected ${rows}`);
      report(`  DatasetReader, ${chunkSize / 1024} KiB chunks`, bytes, runs);
    }
    if (values.oracle) {
      const started = process.hrtime.bigint();
      prepareInMemory(bytes, { source: 's3://bench/raw.csv', labelColumn: 'label', predictorType: 'classifier' });
      report('  in-memory reader (before streaming)', bytes, [Number(process.hrtime.bigint() - started) / 1e6]);
    }
  }
}

main();
