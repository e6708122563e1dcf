/**
 * The bench's engine section: the k-NN engine against faiss IndexFlatL2 at faiss's best thread setting, with every
 * query's neighbours checked against exact brute force.
 *
 * Fairness: faiss runs once per (OpenMP threads × OpenBLAS threads) setting, each in its own process, with
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that process only (this machine sets them for old OpenBLAS builds;
 * they slow a current one), and a warm-up search before the timed add + search, as the engine gets one. Repetitions
 * interleave the engine and every faiss setting, so all see the same machine load; figures are medians.
 * Exactness: bench/exact_check.py (numpy, float64) checks all queries of the engine's first run and of faiss's; the
 * engine's later runs must return byte-identical indices. Any mismatch makes the bench exit non-zero.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { uniformRows } from './data';
import type { EngineCaseResult, EngineCaseSpec } from './engineCase';
import { grouped, markdownTable, median, megabytes, ms, ratio, table } from './format';
import type { PeakResult } from './peaks';

export const PYTHON = '/usr/bin/python3';

/** The cases and the issue's targets (engine search time ÷ faiss's best search time, same run). */
export const ENGINE_CASES = [
  { count: 100_000, dim: 16, queryCount: 10_000, k: 5, target: 0.5 },
  { count: 100_000, dim: 128, queryCount: 10_000, k: 10, target: 1.0 },
  { count: 1_000_000, dim: 16, queryCount: 10_000, k: 10, target: 0.5 },
];
type EngineCase = (typeof ENGINE_CASES)[number];
const VERIFY_QUERIES = 64;

interface FaissSetting {
  omp: number;
  blas: number;
}

interface FaissRun {
  version: string;
  ompThreads: number;
  blas: { internal_api: string; architecture?: string; num_threads: number; version?: string }[] | null;
  addMs: number;
  searchMs: number;
  searchCoresBusy: number;
  rssBeforeBytes: number;
  peakRssBytes: number;
}

interface ExactCheck {
  queries: number;
  tolerance: number;
  results: { name: string; identical: number; mismatches: number; examples: { query: number; indices: number[] }[] }[];
}

export interface EngineBench {
  case: EngineCase;
  /** One process per repetition. */
  ours: EngineCaseResult[];
  /** Engine runs whose indices differ from the first run's (must be 0). */
  unstableRuns: number;
  faiss: { setting: FaissSetting; runs: FaissRun[] }[];
  exact?: ExactCheck;
  /** 1-minute load average before and after the case (other work on the machine skews the numbers). */
  loadAverage: [number, number];
}

export interface EngineSection {
  cases: EngineBench[];
  peaks: PeakResult;
  faissSkipped?: string;
  exactSkipped?: string;
}

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function pythonHas(module: string): boolean {
  return spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8' }).status === 0;
}

/** OpenMP × OpenBLAS thread counts: 1 and 2 each (the issue's four), plus all cores where there are more. */
function faissSettings(): FaissSetting[] {
  const counts = [...new Set([1, 2, availableParallelism()])];
  return counts.flatMap((omp) => counts.map((blas) => ({ omp, blas })));
}

/** This process's environment for a faiss run: the thread setting, and no OpenBLAS core-type overrides. */
function faissEnvironment(setting: FaissSetting): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_NUM_THREADS: String(setting.omp),
    OPENBLAS_NUM_THREADS: String(setting.blas),
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

function runJson<T>(command: string, args: string[], what: string, env: NodeJS.ProcessEnv = process.env): T {
  const child = spawnSync(command, args, {
    encoding: 'utf8',
    env,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.status !== 0) throw new Error(`${what} failed (exit ${child.status}):\n${child.stderr}`);
  const lines = child.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

const sameBytes = (a: string, b: string): boolean => readFileSync(a).equals(readFileSync(b));

export function benchEngine(reps: number, peaks: PeakResult): EngineSection {
  const withFaiss = pythonHas('faiss');
  const withExact = pythonHas('numpy');
  const section: EngineSection = { cases: [], peaks };
  if (!withFaiss)
    section.faissSkipped = `faiss comparison skipped: ${PYTHON} cannot import faiss. Enable it with Debian's package: apt-get install -y python3-faiss`;
  if (!withExact)
    section.exactSkipped = `exactness NOT checked: ${PYTHON} cannot import numpy (apt-get install -y python3-numpy)`;
  const settings = withFaiss ? faissSettings() : [];
  const directory = mkdtempSync(path.join(tmpdir(), 'knn-bench-engine-'));
  try {
    for (const engineCase of ENGINE_CASES) {
      const { count, dim, queryCount, k } = engineCase;
      const label = `${grouped(count)} × ${dim}, ${grouped(queryCount)} queries, k=${k}`;
      const loadBefore = loadavg()[0];
      const trainPath = path.join(directory, `train.f32`);
      const queriesPath = path.join(directory, `queries.f32`);
      writeFileSync(trainPath, new Uint8Array(uniformRows(count, dim, 1000 + dim).buffer));
      writeFileSync(queriesPath, new Uint8Array(uniformRows(queryCount, dim, 2000 + dim).buffer));
      const oursPath = (rep: number): string => path.join(directory, `ours-${rep}.i32`);
      const faissPath = path.join(directory, `faiss.i32`);
      const bench: EngineBench = {
        case: engineCase,
        ours: [],
        unstableRuns: 0,
        faiss: settings.map((setting) => ({ setting, runs: [] })),
        loadAverage: [loadBefore, loadBefore],
      };
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
          indicesOut: oursPath(rep),
        };
        // Same loader flags as this process (tsx), so the case runs from the TypeScript sources.
        bench.ours.push(
          runJson<EngineCaseResult>(
            process.execPath,
            [...process.execArgv, '--expose-gc', path.join(__dirname, 'engineCase.ts'), JSON.stringify(spec)],
            `engine case ${label}`,
          ),
        );
        if (rep > 0 && !sameBytes(oursPath(0), oursPath(rep))) bench.unstableRuns++;
        // Rotated each repetition, so no setting always runs right after the engine.
        for (let i = 0; i < settings.length; i++) {
          const entry = bench.faiss[(i + rep) % settings.length];
          const { omp, blas } = entry.setting;
          progress(`faiss: ${label}, OpenMP ${omp} × OpenBLAS ${blas}, run ${rep + 1}/${reps} …`);
          const faissSpec = { ...spec, indicesOut: rep === 0 && entry === bench.faiss[0] ? faissPath : undefined };
          entry.runs.push(
            runJson<FaissRun>(
              PYTHON,
              [path.join(__dirname, 'faiss_flat.py'), JSON.stringify(faissSpec)],
              `faiss ${label}`,
              faissEnvironment(entry.setting),
            ),
          );
        }
      }
      bench.loadAverage[1] = loadavg()[0];
      if (withExact) {
        progress(`exactness: ${label}, every query against brute force …`);
        const results = [{ name: 'engine', indicesPath: oursPath(0) }];
        if (withFaiss) results.push({ name: 'faiss', indicesPath: faissPath });
        bench.exact = runJson<ExactCheck>(
          PYTHON,
          [
            path.join(__dirname, 'exact_check.py'),
            JSON.stringify({ trainPath, queriesPath, count, dim, queryCount, k, results }),
          ],
          `exactness check ${label}`,
        );
      }
      section.cases.push(bench);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return section;
}

/** Why the bench fails: engine mismatches, unstable runs, or no exactness check at all. */
export function engineFailures(section: EngineSection): string[] {
  const failures: string[] = [];
  if (section.exactSkipped) failures.push(section.exactSkipped);
  for (const bench of section.cases) {
    const name = caseName(bench.case);
    const engine = bench.exact?.results.find((result) => result.name === 'engine');
    if (engine && engine.mismatches > 0)
      failures.push(
        `${name}: the engine's neighbours differ from brute force for ${engine.mismatches} queries, e.g. ${JSON.stringify(engine.examples[0])}`,
      );
    if (bench.unstableRuns > 0) failures.push(`${name}: ${bench.unstableRuns} engine runs returned other indices`);
    const sampled = bench.ours[0].verified;
    if (sampled && sampled.mismatches > 0)
      failures.push(`${name}: ${sampled.mismatches} sampled queries differ from the float32 reference loop`);
  }
  return failures;
}

const caseName = (c: EngineCase): string => `${grouped(c.count)} × ${c.dim}, ${grouped(c.queryCount)} q, k=${c.k}`;
const settingName = ({ omp, blas }: FaissSetting): string => `OpenMP ${omp} × OpenBLAS ${blas}`;
const ourSearch = (bench: EngineBench): number => median(bench.ours.map((run) => run.searchMs));
const ourBuild = (bench: EngineBench): number => median(bench.ours.map((run) => run.buildMs));
const faissSearch = (entry: EngineBench['faiss'][number]): number => median(entry.runs.map((run) => run.searchMs));
const faissAdd = (entry: EngineBench['faiss'][number]): number => median(entry.runs.map((run) => run.addMs));
/** faiss's settings, best (lowest median search time) first. */
const byFaissSpeed = (bench: EngineBench): EngineBench['faiss'] =>
  [...bench.faiss].sort((a, b) => faissSearch(a) - faissSearch(b));
const gflops = (c: EngineCase, milliseconds: number): number =>
  (2 * c.count * c.dim * c.queryCount) / (milliseconds / 1000) / 1e9;
const percent = (value: number): string => `${(100 * value).toFixed(0)} %`;

function exactText(bench: EngineBench, name: string): string {
  const result = bench.exact?.results.find((entry) => entry.name === name);
  if (!result) return '—';
  const queries = grouped(bench.exact!.queries);
  return result.mismatches === 0
    ? `${queries}/${queries} exact (${grouped(result.identical)} same order as float64)`
    : `${grouped(result.mismatches)} of ${queries} beyond float32 rounding`;
}

/** The summary the README quotes: faiss at its best against the engine, with the targets. */
export function summaryRows(section: EngineSection): { headers: string[]; rows: string[][] } {
  const headers = [
    'case',
    'faiss, best setting',
    'faiss search',
    'engine search',
    'engine / faiss',
    'target',
    'engine GFLOP/s (share of peaks)',
    'exact, all queries',
  ];
  const cores = section.cases[0]?.ours[0].threads ?? 1;
  const rows = section.cases.map((bench) => {
    const best = byFaissSpeed(bench)[0];
    const ours = ourSearch(bench);
    const rate = gflops(bench.case, ours);
    const peaks = section.peaks;
    const shares = [`${percent(rate / (peaks.wasmBestGflops * cores))} of WASM SIMD128`];
    if (peaks.native) shares.push(`${percent(rate / (peaks.native.gflops * cores))} of AVX2/FMA`);
    const share = best ? ours / faissSearch(best) : undefined;
    return [
      caseName(bench.case),
      best ? settingName(best.setting) : '—',
      best ? ms(faissSearch(best)) : '—',
      ms(ours),
      share === undefined ? '—' : ratio(share),
      `≤ ${ratio(bench.case.target)}${share === undefined ? '' : share <= bench.case.target ? ' met' : ' NOT met'}`,
      `${rate.toFixed(1)} (${shares.join(', ')})`,
      exactText(bench, 'engine'),
    ];
  });
  return { headers, rows };
}

export function renderEngine(section: EngineSection): string {
  const out: string[] = [];
  const first = section.cases[0]?.ours[0];
  const peaks = section.peaks;
  out.push(
    '',
    `(b) k-NN engine vs faiss IndexFlatL2 at faiss's best thread setting: exact L2, float32, seeded uniform data; median of ${first ? section.cases[0].ours.length : 0} run(s) each, interleaved, each process warmed up`,
    `    engine: ${first?.threads ?? '?'} worker threads, ${first?.kernels ?? '?'} kernels; ratios are search time ÷ faiss's best setting's search time (same run)`,
    `    load average (1 min) during the cases: ${section.cases.map((bench) => bench.loadAverage.map((value) => value.toFixed(2)).join('→')).join(', ')}`,
  );
  const summary = summaryRows(section);
  out.push(table(summary.headers, summary.rows));
  out.push(
    '',
    `Peaks per core, measured (GFLOP/s, 2 flops per multiply-add): WebAssembly SIMD128 ${peaks.wasmBestGflops.toFixed(1)} (${peaks.wasm.map((entry) => `${entry.variant}×${entry.chains}: ${entry.gflops.toFixed(1)}`).join(', ')}); native AVX2/FMA ${peaks.native ? `${peaks.native.gflops.toFixed(1)} (bench/peaks/fma_peak.c, ${peaks.native.compiler})` : `— (${peaks.nativeSkipped})`}.`,
  );
  if (section.faissSkipped) out.push(section.faissSkipped);
  else {
    const rows: string[][] = [];
    for (const bench of section.cases) {
      byFaissSpeed(bench).forEach((entry, rank) => {
        const blas = entry.runs[0].blas?.find((pool) => pool.internal_api === 'openblas');
        rows.push([
          rank === 0 ? caseName(bench.case) : '',
          `${settingName(entry.setting)}${rank === 0 ? ' (best)' : ''}`,
          blas?.architecture ?? '?',
          ms(faissAdd(entry)),
          ms(faissSearch(entry)),
          median(entry.runs.map((run) => run.searchCoresBusy)).toFixed(2),
          `${entry.runs.map((run) => ms(run.searchMs)).join(', ')}`,
          ratio(ourSearch(bench) / faissSearch(entry)),
        ]);
      });
      rows.push([
        '',
        `engine (${bench.ours[0].threads} threads)`,
        bench.ours[0].kernels,
        ms(ourBuild(bench)),
        ms(ourSearch(bench)),
        median(bench.ours.map((run) => run.searchCoresBusy)).toFixed(2),
        bench.ours.map((run) => ms(run.searchMs)).join(', '),
        '',
      ]);
    }
    out.push(
      '',
      `faiss ${section.cases[0]?.faiss[0]?.runs[0]?.version ?? ''} (Debian python3-faiss), one process per setting, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for it; every setting, best first:`,
      table(
        [
          'case',
          'threads',
          'OpenBLAS kernel',
          'add/build',
          'search',
          'cores busy',
          'search, each run',
          'engine / this',
        ],
        rows,
        [false, false, false, true, true, true, true, true],
      ),
    );
  }
  out.push(
    '',
    'Exactness, every query against float64 brute force (ties allowed only within float32 rounding); engine runs after the first must return identical indices:',
    table(
      ['case', 'engine', 'faiss', 'engine runs identical', 'sampled float32 values identical'],
      section.cases.map((bench) => [
        caseName(bench.case),
        exactText(bench, 'engine'),
        exactText(bench, 'faiss'),
        `${bench.ours.length - bench.unstableRuns}/${bench.ours.length}`,
        bench.ours[0].verified
          ? `${bench.ours[0].verified.queries - bench.ours[0].verified.mismatches}/${bench.ours[0].verified.queries}`
          : '—',
      ]),
      [false, false, false, true, true],
    ),
  );
  if (section.exactSkipped) out.push(section.exactSkipped);
  out.push(
    '',
    'Engine detail: build, one-thread search, memory (own process; RSS before = after the warm-up; peak = high-water mark after build + search)',
    table(
      ['case', 'build', 'search, 1 thread', 'index memory', 'RSS before', 'peak RSS', 'faiss peak − before'],
      section.cases.map((bench) => {
        const run = bench.ours[0];
        const faissRun = bench.faiss[0]?.runs[0];
        return [
          caseName(bench.case),
          ms(ourBuild(bench)),
          run.singleThreadSearchMs === undefined ? '—' : ms(run.singleThreadSearchMs),
          megabytes(run.indexMemoryBytes),
          megabytes(run.rssBeforeBytes),
          megabytes(run.peakRssBytes),
          faissRun ? megabytes(faissRun.peakRssBytes - faissRun.rssBeforeBytes) : '—',
        ];
      }),
      [false, true, true, true, true, true, true],
    ),
    '',
    'README table (Markdown):',
    markdownTable(summary.headers, summary.rows),
  );
  return out.join('\n');
}
