/**
 * The bench's iris section: `npm start` on Iris timed as a person types it, as whole processes (Node and npm start-up,
 * loading, the local cloud coming up, the run, shutting down), beside the execution's own duration, so the gap between
 * the two stays visible; and `node cli/knn-pipeline/bin.cjs --help`, the bin's start-up alone. Medians of N runs.
 * The targets (issue 16): npm start ≤ 1.5 s wall, the bin's --help ≤ 0.3 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { markdownTable, median, ms, table } from './format';

const PROJECT_ROOT = path.resolve(__dirname, '..');
export const START_TARGET_MS = 1500;
export const HELP_TARGET_MS = 300;

/** Wall and CPU times (ms) of whole-process runs of one command. */
interface Series {
  wallMs: number[];
  cpuMs: number[];
}

export interface StartupBench {
  runs: number;
  /** `npm start --silent -- --json --dir <fresh>` (the bundle), and the execution's duration it reports. */
  start: Series;
  executionMs: number[];
  accuracy: number | null;
  /** The same run compiled on each start, as before the bundle: `tsx cli/start/main.ts` (no npm in front). */
  startThroughTsx: Series;
  /** `node cli/knn-pipeline/bin.cjs --help`, and the same through tsx as before. */
  help: Series;
  helpThroughTsx: Series;
  loadAverage: [number, number];
}

/** CPU seconds of this process's waited-for children (Linux /proc: cutime + cstime), null elsewhere. */
function childrenCpuMs(): number | null {
  try {
    // Fields after the command name's closing parenthesis; cutime and cstime are fields 16 and 17 (clock ticks).
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return null;
  }
}

interface Timed {
  ms: number;
  /** CPU time of the whole process tree (less sensitive than wall time to other work on the machine). */
  cpuMs: number | null;
  stdout: string;
}

function timed(command: string, args: string[]): Timed {
  const cpuBefore = childrenCpuMs();
  const start = performance.now();
  const child = spawnSync(command, args, { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const elapsed = performance.now() - start;
  const cpuAfter = childrenCpuMs();
  if (child.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${child.status}:\n${child.stderr.slice(-2000)}`);
  return {
    ms: elapsed,
    cpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
    stdout: child.stdout,
  };
}

const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

function record(series: Series, run: Timed): void {
  series.wallMs.push(run.ms);
  if (run.cpuMs !== null) series.cpuMs.push(run.cpuMs);
}

function irisRun(command: string, args: string[]): { run: Timed; executionMs: number; accuracy: number | null } {
  const dir = mkdtempSync(path.join(tmpdir(), 'knn-bench-iris-'));
  try {
    const run = timed(command, [...args, '--json', '--dir', dir]);
    const summary = JSON.parse(run.stdout) as { status: string; durationMs: number; metrics?: { accuracy?: number } };
    if (summary.status !== 'SUCCEEDED') throw new Error(`the Iris run ended ${summary.status}`);
    return { run, executionMs: summary.durationMs, accuracy: summary.metrics?.accuracy ?? null };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function benchStartup(runs: number): StartupBench {
  const loadBefore = loadavg()[0];
  const bin = path.join(PROJECT_ROOT, 'cli/knn-pipeline/bin.cjs');
  const series = (): Series => ({ wallMs: [], cpuMs: [] });
  const result: StartupBench = {
    runs,
    start: series(),
    executionMs: [],
    accuracy: null,
    startThroughTsx: series(),
    help: series(),
    helpThroughTsx: series(),
    loadAverage: [loadBefore, loadBefore],
  };
  // Run 0 is a warm-up, not recorded: bundles rebuilt if a source changed since install, files in the page cache.
  for (let run = 0; run <= runs; run++) {
    const bundled = irisRun('npm', ['start', '--silent', '--']);
    const throughTsx = irisRun(TSX, ['cli/start/main.ts']);
    const help = timed(process.execPath, [bin, '--help']);
    const helpThroughTsx = timed(TSX, ['cli/knn-pipeline/main.ts', '--help']);
    if (run === 0) continue;
    record(result.start, bundled.run);
    result.executionMs.push(bundled.executionMs);
    result.accuracy = bundled.accuracy;
    record(result.startThroughTsx, throughTsx.run);
    record(result.help, help);
    record(result.helpThroughTsx, helpThroughTsx);
  }
  result.loadAverage[1] = loadavg()[0];
  return result;
}

function rows(bench: StartupBench): { headers: string[]; rows: string[][] } {
  const cpu = (values: number[]): string => (values.length ? ms(median(values)) : '—');
  const line = (what: string, values: Series, target?: number): string[] => [
    what,
    ms(median(values.wallMs)),
    `${ms(Math.min(...values.wallMs))} – ${ms(Math.max(...values.wallMs))}`,
    cpu(values.cpuMs),
    target === undefined ? '' : `≤ ${ms(target)}${median(values.wallMs) <= target ? ' met' : ' NOT met'}`,
  ];
  return {
    headers: ['whole process', 'wall, median', 'wall, min – max', 'CPU, median', 'target (wall)'],
    rows: [
      line('`npm start --silent` on Iris', bench.start, START_TARGET_MS),
      line('… of which the execution (Step Functions)', { wallMs: bench.executionMs, cpuMs: [] }),
      line('before: `tsx cli/start/main.ts` (compiled on each start, no npm)', bench.startThroughTsx),
      line('`node cli/knn-pipeline/bin.cjs --help`', bench.help, HELP_TARGET_MS),
      line('before: `tsx cli/knn-pipeline/main.ts --help`', bench.helpThroughTsx),
    ],
  };
}

export function renderStartup(bench: StartupBench): string {
  const table_ = rows(bench);
  return [
    '',
    `(a) Start-up: whole processes, interleaved, ${bench.runs} runs each after one warm-up; CPU = user + system time of the process tree (load average ${bench.loadAverage.map((value) => value.toFixed(2)).join('→')})`,
    table(
      table_.headers,
      table_.rows.map((row) => row.map((cell) => cell.replace(/`/g, ''))),
    ),
    `accuracy ${bench.accuracy}`,
    '',
    'README table (Markdown):',
    markdownTable(table_.headers, table_.rows),
  ].join('\n');
}
