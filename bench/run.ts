/**
 * `npm run bench`: the performance numbers the README quotes, measured side by side in one run.
 *
 *   iris        `npm start` on Iris as whole processes (wall time beside the execution's), and the bin's --help
 *               (bench/startup.ts)
 *   sampling    sample_size sampling over 1,000,000 rows (linear, one pass)
 *   engine      the k-NN engine against faiss IndexFlatL2 at faiss's best OpenMP × OpenBLAS thread setting, every
 *               query checked against brute force, and the share of this machine's measured float32 peaks
 *               (bench/engineBench.ts; faiss from Debian's python3-faiss). An inexact answer exits non-zero.
 *   evaluation  a 100,000-row test set through the local endpoint, batched as functions/evaluate.ts does
 *   bundles     each Lambda function's bundle and zip, built as serverless.yml's custom.esbuild builds them
 *   scale       the pipeline on seeded 1,000,000- and 10,000,000-row CSVs through the local cloud with isolated
 *               functions: time per state, each invocation's peak memory, pandas on the same file side by side
 *               (bench/scale.ts). Heavy (minutes, about 2.5 GB of temporary disk at 10M): only with --only scale.
 *
 * Options: --only iris,engine,…  --reps N (engine and faiss runs per case, default 3)  --iris-runs N (default 5)
 *          --scale-rows 1000000,10000000 (the scale section's sizes).
 * Prints the tables and writes everything to bench/results/<timestamp>.json (git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sampleRows } from '../local/knn/sampling';
import { benchBundles, type BundleSize } from './bundles';
import { benchEngine, engineFailures, type EngineSection, renderEngine } from './engineBench';
import { benchEvaluation, type EvaluationBenchResult } from './evaluation';
import { grouped, kilobytes, median, megabytes, ms, table } from './format';
import { measurePeaks } from './peaks';
import { benchScale, renderScale, type ScaleRun } from './scale';
import { benchStartup, renderStartup, type StartupBench } from './startup';

const SECTIONS = ['iris', 'sampling', 'engine', 'evaluation', 'bundles', 'scale'] as const;
type Section = (typeof SECTIONS)[number];
/** What `npm run bench` runs without --only: every section but the heavy scale runs. */
const DEFAULT_SECTIONS: Section[] = ['iris', 'sampling', 'engine', 'evaluation', 'bundles'];
const DEFAULT_SCALE_ROWS = [1_000_000, 10_000_000];

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function benchSampling() {
  const rowCount = 1_000_000;
  const sampleSize = 100_000;
  const timesMs: number[] = [];
  for (let run = 0; run < 7; run++) {
    const start = performance.now();
    sampleRows(rowCount, sampleSize, run);
    timesMs.push(performance.now() - start);
  }
  return { rowCount, sampleSize, timesMs, medianMs: median(timesMs) };
}

function render(report: Report): string {
  const out: string[] = [];
  const machine = report.machine;
  out.push(
    `k-NN pipeline benchmark — ${report.startedAt}`,
    `Node ${machine.node} on ${machine.cpu} (${machine.cores} cores available), ${megabytes(machine.memoryBytes)} RAM`,
  );
  if (report.iris) out.push(renderStartup(report.iris));
  if (report.engine) out.push(renderEngine(report.engine));
  if (report.sampling) {
    const sampling = report.sampling;
    out.push(
      '',
      `sample_size sampling: ${grouped(sampling.sampleSize)} of ${grouped(sampling.rowCount)} rows in ${ms(sampling.medianMs)} (median of ${sampling.timesMs.length}; one pass, linear)`,
    );
  }
  if (report.evaluation) {
    const e = report.evaluation;
    out.push(
      '',
      `(c) Evaluation through the local endpoint: ${grouped(e.testRows)} test rows × ${e.featureDim} features; model from a real local training job (${grouped(e.trainRows)} train rows, sample_size ${grouped(e.sampleSize)}, k=${e.k}, ${e.classes} classes)`,
      table(
        ['step', 'time'],
        [
          ['training job (create → Completed)', ms(e.trainingJobMs)],
          ['deploy (model, config, endpoint → InService)', ms(e.deployMs)],
          [
            `evaluate, streamed: ${e.invocations} InvokeEndpoint calls (4 in flight; round trips ${e.invocationMs.map(ms).join(', ')})`,
            ms(e.totalMs),
          ],
        ],
      ),
      `${e.invocations} InvokeEndpoint calls for ${grouped(e.testRows)} rows (${grouped(Math.round(e.testRows / (e.totalMs / 1000)))} rows/s), accuracy ${e.accuracy.toFixed(4)}`,
    );
  }
  if (report.scale) out.push(renderScale(report.scale));
  if (report.bundles) {
    out.push(
      '',
      '(d) Lambda bundles (esbuild as serverless.yml custom.esbuild: minified, tree-shaken, source maps; zip = .js + .js.map, deflate level 9)',
      table(
        ['function', 'bundle .js', 'source map', 'zip'],
        report.bundles.map((bundle) => [
          bundle.name,
          kilobytes(bundle.jsBytes),
          kilobytes(bundle.mapBytes),
          kilobytes(bundle.zipBytes),
        ]),
        [false, true, true, true],
      ),
    );
  }
  return out.join('\n');
}

interface Report {
  startedAt: string;
  machine: { node: string; cpu: string; cores: number; memoryBytes: number; platform: string };
  iris?: StartupBench;
  sampling?: ReturnType<typeof benchSampling>;
  engine?: EngineSection;
  evaluation?: EvaluationBenchResult;
  bundles?: BundleSize[];
  scale?: { runs: ScaleRun[]; pandasSkipped?: string };
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      reps: { type: 'string', default: '3' },
      'iris-runs': { type: 'string', default: '5' },
      'scale-rows': { type: 'string' },
    },
  });
  const only = values.only ? (values.only.split(',') as Section[]) : DEFAULT_SECTIONS;
  for (const section of only)
    if (!SECTIONS.includes(section)) throw new Error(`unknown section ${section}; choose from ${SECTIONS.join(', ')}`);
  const reps = Number(values.reps);
  const startedAt = new Date();
  const report: Report = {
    startedAt: startedAt.toISOString(),
    machine: {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown CPU',
      cores: availableParallelism(),
      memoryBytes: totalmem(),
      platform: process.platform,
    },
  };
  if (only.includes('iris')) {
    progress('iris: npm start and the bin, as whole processes …');
    report.iris = benchStartup(Number(values['iris-runs']));
  }
  if (only.includes('sampling')) report.sampling = benchSampling();
  if (only.includes('engine')) {
    progress('engine: peaks per core …');
    report.engine = benchEngine(reps, measurePeaks());
  }
  if (only.includes('evaluation')) {
    progress('evaluation: 100,000 rows through the local endpoint …');
    report.evaluation = await benchEvaluation({ rows: 100_000, sampleSize: 10_000, featureDim: 16, classes: 10, k: 5 });
  }
  if (only.includes('bundles')) {
    progress('bundles: esbuild …');
    report.bundles = await benchBundles();
  }
  if (only.includes('scale')) {
    const sizes = values['scale-rows'] ? values['scale-rows'].split(',').map(Number) : DEFAULT_SCALE_ROWS;
    for (const rows of sizes)
      if (!Number.isInteger(rows) || rows < 10) throw new Error(`--scale-rows: ${rows} is not a row count (≥ 10)`);
    report.scale = await benchScale(sizes);
  }
  const text = render(report);
  process.stdout.write(`${text}\n`);
  const resultsDir = path.join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ ...report, text }, null, 2)}\n`);
  process.stdout.write(`\nResults written to ${path.relative(process.cwd(), file)}\n`);
  const failures = report.engine ? engineFailures(report.engine) : [];
  if (failures.length > 0) {
    process.stderr.write(`\nBENCH FAILED:\n${failures.map((failure) => `- ${failure}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
