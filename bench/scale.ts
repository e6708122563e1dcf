/**
 * `npm run bench -- --only scale`: the pipeline on large CSVs through the local cloud with isolated functions (as
 * `npm start` runs it), with the notebook's pandas way on the same file side by side.
 *
 * For each size: a seeded N-row × 16-feature, 5-class CSV is generated streaming into a temporary directory, uploaded
 * under raw/ (multipart, streamed from disk) so that the upload starts the execution, and the run is timed state by
 * state from the local Step Functions history; each Lambda invocation's peak memory comes from the local Lambda's
 * REPORT (local/lambda/report.ts). Then pandas read_csv → label encoding → train_test_split → to_csv of both channels
 * runs on the same file in its own /usr/bin/python3 process (bench/pandas_split.py).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { LOCAL, LocalCloud } from '../local/cloud';
import type { InvocationReport } from '../local/lambda/report';
import type { HistoryEvent } from '../local/stepfunctions/runner';
import { s3Client } from '../src/aws/clients';
import { getObjectJson } from '../src/aws/objects';
import { writeClassesCsv } from './data';
import { grouped, mebibytes, megabytes, ms, ratio, table } from './format';

const PYTHON = '/usr/bin/python3';
const FEATURES = 16;
const CLASSES = 5;
const LABEL = 'class';
/** The issue's targets: data path at most half of pandas' time, each function's heap at most 256 MB. */
export const TARGET_RATIO = 0.5;
const TARGET_HEAP_BYTES = 256 * 1024 * 1024;
/** The states the ratio compares with pandas: from the raw object to both channels in S3. */
const DATA_PATH_STATES = ['Prepare', 'Split', 'Upload'];

export interface StateTime {
  state: string;
  visits: number;
  ms: number;
  status: string;
}

export interface FunctionMemory {
  state: string;
  functionKey: string;
  memorySizeMb: number;
  durationMs: number;
  initDurationMs?: number;
  status: InvocationReport['status'];
  errorType?: string;
  memory: InvocationReport['memory'];
}

export interface PandasResult {
  pandas: string;
  sklearn: string;
  importMs: number;
  steps: Record<string, number>;
  totalMs: number;
  trainRows: number;
  testRows: number;
  peakRssBytes: number;
}

export interface ScaleRun {
  rows: number;
  csvBytes: number;
  generateMs: number;
  cloudStartMs: number;
  /** Streaming the CSV into the local S3 (multipart), which starts the execution. */
  uploadMs: number;
  /** The execution, from its start to its end (Step Functions). */
  executionMs: number;
  /** Upload start → execution end. */
  wallMs: number;
  status: string;
  error?: string;
  cause?: string;
  accuracy: number | null;
  states: StateTime[];
  functions: FunctionMemory[];
  /** Prepare + Split + Upload, the data path pandas is compared with. */
  dataPathMs: number;
  /** This process's peak RSS (the local cloud and every sandbox share it): context only. */
  processPeakRssBytes: number;
  pandas?: PandasResult;
  pandasSkipped?: string;
  /** dataPathMs ÷ pandas totalMs. */
  ratio?: number;
  loadAverage: [number, number];
}

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export function pandasAvailable(): { available: boolean; hint?: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import pandas, sklearn'], { encoding: 'utf8' });
  return probe.status === 0
    ? { available: true }
    : {
        available: false,
        hint:
          `pandas comparison skipped: ${PYTHON} cannot import pandas and scikit-learn. ` +
          "Enable it with Debian's packages: apt-get install -y python3-pandas python3-sklearn",
      };
}

/** One visit per state entered, with how it ended; polling loops visit a state many times. */
interface Visit {
  state: string;
  type: string;
  enteredAt: number;
  exitedAt?: number;
  status: string;
}

function visitsOf(history: HistoryEvent[]): Visit[] {
  const visits: Visit[] = [];
  const open = new Map<string, Visit>();
  for (const event of history) {
    const name = event.state?.name;
    if (!name) continue;
    const key = event.index === undefined ? name : `${name}[${event.index}]`;
    if (event.type === 'StateEntered') {
      const visit: Visit = { state: name, type: event.state!.type, enteredAt: event.timestamp, status: 'running' };
      visits.push(visit);
      open.set(key, visit);
    } else if (event.type === 'StateExited' || event.type === 'StateFailed' || event.type === 'StateCaught') {
      const visit = open.get(key);
      if (!visit) continue;
      visit.exitedAt = event.timestamp;
      visit.status = event.type === 'StateExited' ? 'succeeded' : event.type === 'StateCaught' ? 'caught' : 'failed';
      open.delete(key);
    }
  }
  return visits;
}

function stateTimes(visits: Visit[]): StateTime[] {
  const byState = new Map<string, StateTime>();
  for (const visit of visits) {
    const entry = byState.get(visit.state) ?? { state: visit.state, visits: 0, ms: 0, status: 'succeeded' };
    entry.visits += 1;
    entry.ms += (visit.exitedAt ?? visit.enteredAt) - visit.enteredAt;
    if (visit.status !== 'succeeded') entry.status = visit.status;
    byState.set(visit.state, entry);
  }
  return [...byState.values()];
}

/** Each invocation with the Task state whose visit it ran in (the janitor runs after the execution). */
function functionMemory(reports: InvocationReport[], visits: Visit[]): FunctionMemory[] {
  return reports.map((report) => {
    const visit = visits
      .filter(
        (v) => v.type === 'Task' && v.enteredAt <= report.startedAt && report.startedAt <= (v.exitedAt ?? Infinity),
      )
      .sort((a, b) => b.enteredAt - a.enteredAt)[0];
    return {
      state: visit?.state ?? `(${report.functionKey}, after the execution)`,
      functionKey: report.functionKey,
      memorySizeMb: report.memorySizeMb,
      durationMs: report.durationMs,
      ...(report.initDurationMs === undefined ? {} : { initDurationMs: report.initDurationMs }),
      status: report.status,
      ...(report.errorType ? { errorType: report.errorType } : {}),
      memory: report.memory,
    };
  });
}

/** The run's accuracy from its metrics.json (the run's keys are in Prepare's output), when it got that far. */
async function accuracyOf(history: HistoryEvent[]): Promise<number | null> {
  const prepared = history.find((event) => event.type === 'StateExited' && event.state?.name === 'Prepare');
  const key = (prepared?.state?.output as { run?: { keys?: { metrics?: string } } } | undefined)?.run?.keys?.metrics;
  if (!key) return null;
  return getObjectJson<{ metrics?: { accuracy?: number } }>({ bucket: LOCAL.bucket, key })
    .then((file) => file.metrics?.accuracy ?? null)
    .catch(() => null);
}

function runPandas(csv: string, outDir: string): PandasResult {
  mkdirSync(outDir, { recursive: true });
  // OpenBLAS settings of this machine's environment are left out for the Python process only.
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const spec = { csv, label: LABEL, outDir, seed: 0, testFraction: 0.25 };
  const child = spawnSync(PYTHON, [path.join(__dirname, 'pandas_split.py'), JSON.stringify(spec)], {
    encoding: 'utf8',
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`pandas failed (exit ${child.status}):\n${child.stderr}`);
  const lines = child.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as PandasResult;
}

/** Streams a file into the local S3 as a multipart upload (the CSV is never held in memory). */
async function uploadFile(file: string, key: string): Promise<void> {
  await new Upload({
    client: s3Client(),
    params: { Bucket: LOCAL.bucket, Key: key, Body: createReadStream(file), ContentType: 'text/csv' },
    partSize: 32 * 1024 * 1024,
    queueSize: 2,
  }).done();
}

export async function benchScaleRun(rows: number, withPandas: boolean): Promise<ScaleRun> {
  const directory = mkdtempSync(path.join(tmpdir(), 'knn-bench-scale-'));
  const loadBefore = loadavg()[0];
  try {
    const csv = path.join(directory, `scale-${rows}.csv`);
    progress(`scale: generating ${grouped(rows)} rows × ${FEATURES} features, ${CLASSES} classes …`);
    let started = performance.now();
    const { bytes } = await writeClassesCsv(csv, {
      rowCount: rows,
      dim: FEATURES,
      classes: CLASSES,
      spread: 1,
      seed: 13,
    });
    const generateMs = performance.now() - started;

    progress(`scale: ${grouped(rows)} rows (${megabytes(bytes)}) through the local cloud …`);
    const reports: InvocationReport[] = [];
    started = performance.now();
    const cloud = await LocalCloud.start({
      directory: path.join(directory, 'cloud'),
      // The stage's own limits (maxDatasetBytes included): a size beyond them fails as it would when deployed.
      params: { labelColumn: LABEL },
      onLambdaReport: (report) => reports.push(report),
    });
    const cloudStartMs = performance.now() - started;
    let run: Omit<ScaleRun, 'pandas' | 'pandasSkipped' | 'ratio' | 'loadAverage'>;
    try {
      const key = `${cloud.rawPrefix}scale-${rows}.csv`;
      const triggered = cloud.nextTriggeredExecution(key);
      const uploadStart = performance.now();
      await uploadFile(csv, key);
      const uploadMs = performance.now() - uploadStart;
      const execution = await triggered;
      const record = await execution.done;
      const wallMs = performance.now() - uploadStart;
      // The janitor runs once the execution has ended; its report comes with it.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const visits = visitsOf(record.history);
      const states = stateTimes(visits);
      const accuracy = await accuracyOf(record.history);
      run = {
        rows,
        csvBytes: bytes,
        generateMs,
        cloudStartMs,
        uploadMs,
        executionMs: (record.stopDate ?? new Date()).getTime() - record.startDate.getTime(),
        wallMs,
        status: record.status,
        ...(record.error ? { error: record.error, cause: record.cause } : {}),
        accuracy,
        states,
        functions: functionMemory(reports, visits),
        dataPathMs: states
          .filter((state) => DATA_PATH_STATES.includes(state.state))
          .reduce((sum, state) => sum + state.ms, 0),
        processPeakRssBytes: process.resourceUsage().maxRSS * 1024,
      };
    } finally {
      await cloud.close();
      // The local S3's copy of the data is as large as the CSV: freed before pandas runs.
      rmSync(path.join(directory, 'cloud'), { recursive: true, force: true });
    }
    const result: ScaleRun = { ...run, loadAverage: [loadBefore, loadavg()[0]] };
    if (withPandas) {
      progress(`scale: pandas on the same ${grouped(rows)} rows …`);
      result.pandas = runPandas(csv, path.join(directory, 'pandas'));
      result.ratio = result.dataPathMs / result.pandas.totalMs;
    }
    result.loadAverage[1] = loadavg()[0];
    return result;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

export async function benchScale(sizes: number[]): Promise<{ runs: ScaleRun[]; pandasSkipped?: string }> {
  const pandas = pandasAvailable();
  const runs: ScaleRun[] = [];
  for (const rows of sizes) runs.push(await benchScaleRun(rows, pandas.available));
  return { runs, ...(pandas.available ? {} : { pandasSkipped: pandas.hint }) };
}

const mib = (bytes: number | undefined): string => (bytes === undefined ? '—' : mebibytes(bytes));

export function renderScale(scale: { runs: ScaleRun[]; pandasSkipped?: string }): string {
  const out: string[] = [];
  for (const run of scale.runs) {
    out.push(
      '',
      `(f) Scale: ${grouped(run.rows)} rows × ${FEATURES} features, ${CLASSES} classes (${megabytes(run.csvBytes)} CSV, generated in ${ms(run.generateMs)}), ` +
        `through the local cloud with isolated functions: ${run.status}` +
        (run.error ? ` (${run.error}: ${run.cause})` : '') +
        (run.accuracy === null ? '' : `, accuracy ${run.accuracy.toFixed(4)}`),
      `    local cloud start ${ms(run.cloudStartMs)}; upload to raw/ (streamed multipart) ${ms(run.uploadMs)}; ` +
        `execution ${ms(run.executionMs)}; wall clock upload → end ${ms(run.wallMs)}; load average ${run.loadAverage.map((l) => l.toFixed(1)).join(' → ')}`,
      table(
        ['state', 'time', 'visits', 'status'],
        run.states.map((state) => [state.state, ms(state.ms), String(state.visits), state.status]),
        [false, true, true, false],
      ),
      '',
      '    Peak memory per function invocation, sampled inside its sandbox every 5 ms and at the end (local/lambda/memory.ts):',
      '    heap used/total = V8 heap of the isolate; external = off-heap memory its objects hold (of which ArrayBuffers);',
      `    footprint = heap total + external ("Max Memory Used"). Heap target: ≤ ${mebibytes(TARGET_HEAP_BYTES)}.`,
      table(
        [
          'state',
          'function',
          'memory',
          'duration',
          'heap used',
          'heap total',
          'external',
          'ArrayBuffers',
          'footprint',
          'heap ≤ 256 MiB',
        ],
        run.functions.map((fn) => [
          fn.state,
          fn.functionKey,
          `${fn.memorySizeMb} MB`,
          `${ms(fn.durationMs)}${fn.status === 'success' ? '' : ` (${fn.errorType ?? fn.status})`}`,
          mib(fn.memory?.heapUsed),
          mib(fn.memory?.heapTotal),
          mib(fn.memory?.external),
          mib(fn.memory?.arrayBuffers),
          mib(fn.memory?.footprint),
          fn.memory ? (fn.memory.heapUsed <= TARGET_HEAP_BYTES ? 'yes' : 'NO') : '—',
        ]),
        [false, false, true, true, true, true, true, true, true, false],
      ),
      `    this process (local cloud + all sandboxes) peak RSS: ${megabytes(run.processPeakRssBytes)}`,
    );
    if (run.pandas) {
      const p = run.pandas;
      const steps = Object.entries(p.steps).map(([name, value]) => `${name} ${ms(value)}`);
      out.push(
        '',
        `    pandas ${p.pandas} + scikit-learn ${p.sklearn} on the same file (${PYTHON}, own process, imports ${ms(p.importMs)} not counted):`,
        `    ${steps.join(', ')}; total ${ms(p.totalMs)}, peak RSS ${megabytes(p.peakRssBytes)}`,
        `    prepare + split + upload ${ms(run.dataPathMs)} ÷ pandas ${ms(p.totalMs)} = ${ratio(run.ratio!)} ` +
          `(target ≤ ${ratio(TARGET_RATIO)}: ${run.ratio! <= TARGET_RATIO ? 'met' : 'not met'})`,
      );
    }
  }
  if (scale.pandasSkipped) out.push('', scale.pandasSkipped);
  return out.join('\n');
}
