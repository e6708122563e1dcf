/**
 * `npm run bench`: the performance numbers the README quotes, measured side by side in one run.
 *
 *   iris        the local end-to-end Iris pipeline (runLocal, as `npm start`), median of several runs
 *   sampling    sample_size sampling over 1,000,000 rows (linear, one pass)
 *   engine      the k-NN engine: index build + exact search on seeded data, each case in its own process (peak RSS),
 *               a sample of queries checked against brute force; faiss IndexFlatL2 on the same data when Debian's
 *               python3-faiss is installed
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
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runLocal } from '../cli/start/runLocal';
import { sampleRows } from '../local/knn/sampling';
import { benchBundles, type BundleSize } from './bundles';
import { uniformRows } from './data';
import type { EngineCaseResult, EngineCaseSpec } from './engineCase';
import { benchEvaluation, type EvaluationBenchResult } from './evaluation';
import { grouped, kilobytes, median, megabytes, ms, ratio, table } from './format';
import { benchScale, renderScale, type ScaleRun } from './scale';

const PROJECT_ROOT = path.resolve(__dirname, '..');
const PYTHON = '/usr/bin/python3';
const SECTIONS = ['iris', 'sampling', 'engine', 'evaluation', 'bundles', 'scale'] as const;
type Section = (typeof SECTIONS)[number];
/** What `npm run bench` runs without --only: every section but the heavy scale runs. */
const DEFAULT_SECTIONS: Section[] = ['iris', 'sampling', 'engine', 'evaluation', 'bundles'];
const DEFAULT_SCALE_ROWS = [1_000_000, 10_000_000];

const ENGINE_CASES = [
  { count: 100_000, dim: 16, queryCount: 10_000, k: 5 },
  { count: 100_000, dim: 128, queryCount: 10_000, k: 10 },
];
const VERIFY_QUERIES = 64;

/** One faiss process: one add + search per OpenMP thread setting. */
interface FaissProcess {
  version: string;
  defaultThreads: number;
  runs: { threads: number; default: boolean; addMs: number; searchMs: number; searchCoresBusy: number }[];
  rssBeforeBytes: number;
  peakRssBytes: number;
}

interface FaissBench {
  version: string;
  configs: { threads: number; default: boolean; addMs: number[]; searchMs: number[]; searchCoresBusy: number[] }[];
  /** From the first process: RSS after loading the data, and the high-water mark after add + search. */
  rssBeforeBytes: number;
  peakRssBytes: number;
  /** Queries whose k neighbour indices equal ours, in order (faiss ranks by the expansion; ties may differ). */
  sameNeighbours: number;
}

interface EngineBench {
  case: (typeof ENGINE_CASES)[number];
  /** One process per repetition, interleaved with faiss's so both see the same machine load. */
  ours: EngineCaseResult[];
  faiss?: FaissBench;
  /** 1-minute load average before and after the case (other work on the machine skews the numbers). */
  loadAverage: [number, number];
}

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function faissAvailable(): { available: boolean; version?: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import faiss; print(faiss.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? { available: true, version: probe.stdout.trim() } : { available: false };
}

async function benchIris(runs: number) {
  const wallMs: number[] = [];
  const executionMs: number[] = [];
  let accuracy: number | null = null;
  for (let run = 0; run < runs; run++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'knn-bench-iris-'));
    try {
      const start = performance.now();
      const summary = await runLocal({ data: path.join(PROJECT_ROOT, 'data/iris.csv'), dir }, () => {});
      wallMs.push(performance.now() - start);
      if (summary.status !== 'SUCCEEDED')
        throw new Error(`the Iris run ended ${summary.status}: ${summary.error} ${summary.cause}`);
      executionMs.push(summary.durationMs);
      accuracy = summary.metrics && 'accuracy' in summary.metrics ? summary.metrics.accuracy : null;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { runs, wallMs, executionMs, medianWallMs: median(wallMs), medianExecutionMs: median(executionMs), accuracy };
}

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

function runJson<T>(command: string, args: string[], what: string): T {
  const child = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.status !== 0) throw new Error(`${what} failed (exit ${child.status}):\n${child.stderr}`);
  const lines = child.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

function benchEngine(reps: number, withFaiss: boolean): EngineBench[] {
  const results: EngineBench[] = [];
  const directory = mkdtempSync(path.join(tmpdir(), 'knn-bench-engine-'));
  try {
    for (const engineCase of ENGINE_CASES) {
      const { count, dim, queryCount, k } = engineCase;
      const label = `${grouped(count)} × ${dim}, ${grouped(queryCount)} queries, k=${k}`;
      const loadBefore = loadavg()[0];
      const trainPath = path.join(directory, `train-${dim}.f32`);
      const queriesPath = path.join(directory, `queries-${dim}.f32`);
      writeFileSync(trainPath, new Uint8Array(uniformRows(count, dim, 1000 + dim).buffer));
      writeFileSync(queriesPath, new Uint8Array(uniformRows(queryCount, dim, 2000 + dim).buffer));
      const ourIndices = path.join(directory, `ours-${dim}.i32`);
      const faissIndices = path.join(directory, `faiss-${dim}.i32`);
      // 0 = faiss's default (all cores); 2 explicitly only where that differs; 1 for the per-core speed.
      const threads = availableParallelism() === 2 ? [0, 1] : [0, 2, 1];
      const ours: EngineCaseResult[] = [];
      const faissProcesses: FaissProcess[] = [];
      for (let rep = 0; rep < reps; rep++) {
        progress(`engine: ${label}, run ${rep + 1}/${reps} …`);
        const spec: EngineCaseSpec = {
          trainPath,
          queriesPath,
          count,
          dim,
          queryCount,
          k,
          detailed: rep === 0,
          verifyQueries: VERIFY_QUERIES,
          indicesOut: ourIndices,
        };
        // Same loader flags as this process (tsx), so the case runs from the TypeScript sources.
        ours.push(
          runJson<EngineCaseResult>(
            process.execPath,
            [...process.execArgv, '--expose-gc', path.join(__dirname, 'engineCase.ts'), JSON.stringify(spec)],
            `engine case ${label}`,
          ),
        );
        if (!withFaiss) continue;
        progress(`faiss: ${label}, run ${rep + 1}/${reps} …`);
        const faissSpec = { ...spec, threads, indicesOut: rep === 0 ? faissIndices : undefined };
        faissProcesses.push(
          runJson<FaissProcess>(
            PYTHON,
            [path.join(__dirname, 'faiss_flat.py'), JSON.stringify(faissSpec)],
            `faiss ${label}`,
          ),
        );
      }
      const bench: EngineBench = { case: engineCase, ours, loadAverage: [loadBefore, loadavg()[0]] };
      if (faissProcesses.length > 0) {
        const first = faissProcesses[0];
        bench.faiss = {
          version: first.version,
          configs: first.runs.map((run, i) => ({
            threads: run.threads,
            default: run.default,
            addMs: faissProcesses.map((process) => process.runs[i].addMs),
            searchMs: faissProcesses.map((process) => process.runs[i].searchMs),
            searchCoresBusy: faissProcesses.map((process) => process.runs[i].searchCoresBusy),
          })),
          rssBeforeBytes: first.rssBeforeBytes,
          peakRssBytes: first.peakRssBytes,
          sameNeighbours: sameNeighbourRows(ourIndices, faissIndices, k),
        };
      }
      results.push(bench);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return results;
}

function sameNeighbourRows(oursPath: string, faissPath: string, k: number): number {
  const ours = new Int32Array(new Uint8Array(readFileSync(oursPath)).buffer);
  const theirs = new Int32Array(new Uint8Array(readFileSync(faissPath)).buffer);
  let same = 0;
  for (let row = 0; row < ours.length / k; row++) {
    let equal = true;
    for (let i = 0; i < k && equal; i++) equal = ours[row * k + i] === theirs[row * k + i];
    if (equal) same++;
  }
  return same;
}

function render(report: Report): string {
  const out: string[] = [];
  const machine = report.machine;
  out.push(
    `k-NN pipeline benchmark — ${report.startedAt}`,
    `Node ${machine.node} on ${machine.cpu} (${machine.cores} cores available), ${megabytes(machine.memoryBytes)} RAM`,
  );
  if (report.iris) {
    const iris = report.iris;
    out.push(
      '',
      `(a) Local end-to-end Iris run (runLocal, as npm start), ${iris.runs} runs`,
      table(
        ['', 'median', 'min', 'max'],
        [
          [
            'wall clock (cloud start → summary)',
            ms(iris.medianWallMs),
            ms(Math.min(...iris.wallMs)),
            ms(Math.max(...iris.wallMs)),
          ],
          [
            'execution (Step Functions)',
            ms(iris.medianExecutionMs),
            ms(Math.min(...iris.executionMs)),
            ms(Math.max(...iris.executionMs)),
          ],
        ],
      ),
      `accuracy ${iris.accuracy}`,
    );
  }
  if (report.engine) {
    const caseName = (c: EngineBench['case']): string =>
      `${grouped(c.count)} × ${c.dim}, ${grouped(c.queryCount)} q, k=${c.k}`;
    const ourBuild = (bench: EngineBench): number => median(bench.ours.map((run) => run.buildMs));
    const ourSearch = (bench: EngineBench): number => median(bench.ours.map((run) => run.searchMs));
    out.push(
      '',
      `(b) k-NN engine: exact L2 search, float32, seeded uniform data; median of ${report.engine[0].ours.length} run(s) (one process each, after a warm-up search)`,
      '    cores busy = CPU time ÷ wall time of the search (below the thread count: the cores were shared with other work)',
      table(
        ['case', 'build', 'search', 'build+search', 'search, 1 thread', 'exact (sample)', 'cores busy'],
        report.engine.map((bench) => {
          const first = bench.ours[0];
          return [
            caseName(bench.case),
            ms(ourBuild(bench)),
            `${ms(ourSearch(bench))} (${first.threads} threads)`,
            ms(ourBuild(bench) + ourSearch(bench)),
            first.singleThreadSearchMs === undefined ? '—' : ms(first.singleThreadSearchMs),
            first.verified
              ? `${first.verified.queries - first.verified.mismatches}/${first.verified.queries} identical`
              : '—',
            median(bench.ours.map((run) => run.searchCoresBusy)).toFixed(2),
          ];
        }),
        [false, true, true, true, true, true, true],
      ),
    );
    if (report.engine.some((bench) => bench.faiss)) {
      const rows: string[][] = [];
      for (const bench of report.engine) {
        if (!bench.faiss) continue;
        const ourTotal = ourBuild(bench) + ourSearch(bench);
        for (const config of bench.faiss.configs) {
          const total = median(config.addMs) + median(config.searchMs);
          rows.push([
            caseName(bench.case),
            config.default
              ? `default (${config.threads})`
              : `omp_set_num_threads(${config.threads})${config.threads === 1 ? '*' : ''}`,
            ms(median(config.addMs)),
            ms(median(config.searchMs)),
            median(config.searchCoresBusy).toFixed(2),
            ms(total),
            ms(ourTotal),
            ratio(ourSearch(bench) / median(config.searchMs)),
            ratio(ourTotal / total),
            `${grouped(bench.faiss.sameNeighbours)}/${grouped(bench.case.queryCount)}`,
          ]);
        }
      }
      const faissVersion = report.engine.find((bench) => bench.faiss)?.faiss?.version;
      const cores = report.machine.cores;
      out.push(
        '',
        `faiss ${faissVersion} IndexFlatL2 on the same data, same run, interleaved with ours (Debian python3-faiss; timed inside Python around add and search).`,
        `faiss uses all cores by default: here ${cores}, so "default" is omp_set_num_threads(${cores}); ours runs one worker per core.`,
        '* OpenMP threads only: OpenBLAS still runs its GEMM on its own threads (see cores busy).',
        table(
          [
            'case',
            'faiss threads',
            'faiss add',
            'faiss search',
            'cores busy',
            'faiss total',
            'ours total',
            'ours/faiss search',
            'ours/faiss total',
            'same neighbours',
          ],
          rows,
          [false, false, true, true, true, true, true, true, true, true],
        ),
      );
    } else {
      out.push('', report.faissSkipped ?? 'faiss comparison skipped.');
    }
    out.push(
      '',
      '(e) Memory per engine case (own process, worker pool started and warm-up done before "before"; peak = RSS high-water mark after build + search)',
      table(
        [
          'case',
          'stored points',
          'index memory',
          'RSS before',
          'peak RSS',
          'peak − before',
          'JS heap (max seen)',
          'faiss peak − before',
        ],
        report.engine.map(({ case: c, ours: [first], faiss }) => [
          `${grouped(c.count)} × ${c.dim}`,
          megabytes(first.storedBytes),
          megabytes(first.indexMemoryBytes),
          megabytes(first.rssBeforeBytes),
          megabytes(first.peakRssBytes),
          megabytes(first.peakRssBytes - first.rssBeforeBytes),
          megabytes(first.heapUsedPeakBytes),
          faiss ? megabytes(faiss.peakRssBytes - faiss.rssBeforeBytes) : '—',
        ]),
        [false, true, true, true, true, true, true, true],
      ),
    );
  }
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
  iris?: Awaited<ReturnType<typeof benchIris>>;
  sampling?: ReturnType<typeof benchSampling>;
  engine?: EngineBench[];
  faissSkipped?: string;
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
    progress('iris: local end-to-end runs …');
    report.iris = await benchIris(Number(values['iris-runs']));
  }
  if (only.includes('sampling')) report.sampling = benchSampling();
  if (only.includes('engine')) {
    const faiss = faissAvailable();
    if (!faiss.available) {
      report.faissSkipped = `faiss comparison skipped: ${PYTHON} cannot import faiss. Enable it with Debian's package: apt-get install -y python3-faiss`;
    }
    report.engine = benchEngine(reps, faiss.available);
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
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
