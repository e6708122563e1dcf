// `knn-pipeline watch RUN`: follows an execution until it ends — states with durations, the training job and endpoint
// as SageMaker reports them, and the result — by polling the Step Functions and SageMaker APIs.
import { capacityWaits, describeWait } from '../../common/capacity';
import type { RunConfig } from '../../../src/domain/runConfig';
import {
  datasetOf,
  describeExecution,
  durationMs,
  executionHistory,
  parseInput,
  resolveExecution,
  runConfigFromHistory,
  stateVisits,
  triggerOf,
  type Execution,
  type StateVisit,
} from '../../common/executions';
import { formatDuration, metricValue, statusLabel } from '../../common/format';
import { CliError, EXIT, sleep, type Io } from '../../common/io';
import {
  buildRunReport,
  endpointStatus,
  headline,
  readEvaluation,
  trainingJobStatus,
  transformJobStatus,
  type ResourceStatus,
  type RunReport,
} from '../../common/report';
import type { Target } from '../../common/target';

export interface WatchOptions {
  json?: boolean;
  /** Give up (exit 2) after this long; the execution goes on. */
  timeoutSeconds?: number;
  intervalMs?: number;
}

/** Choice and Pass states take no time and decide nothing people wait for. */
const QUIET_STATE_TYPES = new Set(['Choice', 'Pass']);
const FINAL_TRAINING_STATUSES = new Set(['Completed', 'Failed', 'Stopped']);

export async function watchCommand(target: Target, run: string, options: WatchOptions, io: Io): Promise<number> {
  const execution = await resolveExecution(target, run);
  const watched = await watchExecution(target, execution, options, io);
  if (options.json) io.out(JSON.stringify(watched.report, null, 2));
  return watched.exitCode;
}

export interface Watched {
  exitCode: number;
  /** The run report at the end (with `json`; people get the printed result instead). */
  report?: RunReport;
}

/** Follows the execution to its end; prints progress unless `json`. */
export async function watchExecution(
  target: Target,
  first: Execution,
  options: WatchOptions,
  io: Io,
): Promise<Watched> {
  const say = options.json ? () => undefined : (line: string) => io.out(line);
  const printer = new StatePrinter(say);
  const resources = new ResourceWatcher(target, say);
  const deadline = options.timeoutSeconds ? Date.now() + options.timeoutSeconds * 1000 : Infinity;
  const interval = options.intervalMs ?? target.pollMs;
  say(`▶ ${first.name}  ${describeStart(first)}`);

  let execution = first;
  const waitsSeen = new Set<string>();
  for (;;) {
    const events = await executionHistory(target, execution.executionArn!);
    const visits = stateVisits(events);
    const run = runConfigFromHistory(events);
    printer.print(visits);
    // After the states: a resource line then reads as what the state still running is waiting for.
    if (run) await resources.poll(run, visits, execution.status !== 'RUNNING');
    if (run && execution.status === 'RUNNING') {
      for (const wait of await capacityWaits(target, run)) {
        const line = `  ⏳ ${wait.resource}: ${describeWait(wait)}`;
        if (wait.status === 'waiting' && !waitsSeen.has(line)) say(line);
        waitsSeen.add(line);
      }
    }
    if (execution.status !== 'RUNNING') {
      printer.flush();
      const exitCode = execution.status === 'SUCCEEDED' ? EXIT.ok : EXIT.runNotSucceeded;
      if (options.json) return { exitCode, report: await buildRunReport(target, execution, events) };
      await printResult(target, execution, run, say);
      say(`Details: npx knn-pipeline show ${execution.name} ${target.flags}`);
      return { exitCode };
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `${execution.name} is still running after ${options.timeoutSeconds} s; watch it again with: npx knn-pipeline watch ${execution.name} ${target.flags}`,
      );
    }
    await sleep(interval);
    execution = await describeExecution(target, execution.executionArn!);
  }
}

function describeStart(execution: Execution): string {
  const input = parseInput(execution);
  switch (triggerOf(execution)) {
    case 's3':
      return `started by the upload of ${datasetOf(execution)}`;
    case 'schedule':
      return 'started by the schedule';
    default:
      return `console run on ${input?.dataset?.key ?? 'the stage default dataset'}`;
  }
}

async function printResult(
  target: Target,
  execution: Execution,
  run: RunConfig | undefined,
  say: (line: string) => void,
) {
  const took = formatDuration(durationMs(execution));
  const evaluation = run ? await readEvaluation(target, run) : undefined;
  const best = evaluation ? headline(evaluation) : null;
  say('');
  say(`${statusLabel(execution.status)} in ${took}${best ? ` — ${best.name} ${metricValue(best.value)}` : ''}`);
  if (evaluation?.gate) say(`  ${evaluation.gate.passed ? '✔' : '✖'} ${evaluation.gate.message}`);
  const why = [execution.error, execution.cause].filter(Boolean).join(': ');
  if (execution.status !== 'SUCCEEDED' && why) say(`  ${why}`);
  if (execution.status === 'ABORTED' || execution.status === 'TIMED_OUT') {
    say('  The janitor deletes the run’s SageMaker resources (EventBridge rule on ABORTED / TIMED_OUT / FAILED).');
  }
}

/**
 * Prints each state once, when it ends (✔ / ✖ with its duration), or when it is still running at a poll (⋯).
 * Visits of a state seen before (the endpoint polling loop) fold into one ↻ line with the number of rounds.
 */
class StatePrinter {
  private printed = 0;
  private announced = -1;
  private readonly seen = new Set<string>();
  private loop: { names: string[]; rounds: number; from: Date; to?: Date } | undefined;

  constructor(private readonly say: (line: string) => void) {}

  print(visits: StateVisit[]): void {
    for (; this.printed < visits.length; this.printed++) {
      const visit = visits[this.printed];
      if (visit.status === 'running') {
        if (this.announced !== this.printed && !this.seen.has(visit.name) && !QUIET_STATE_TYPES.has(visit.type)) {
          this.flush();
          this.say(`  ⋯ ${visit.name}`);
          this.announced = this.printed;
        }
        return;
      }
      if (this.seen.has(visit.name)) {
        this.loop ??= { names: [], rounds: 0, from: visit.enteredAt };
        if (!this.loop.names.includes(visit.name) && !QUIET_STATE_TYPES.has(visit.type))
          this.loop.names.push(visit.name);
        if (visit.name === this.loop.names[0]) this.loop.rounds += 1;
        this.loop.to = visit.exitedAt;
        if (visit.status === 'succeeded') continue;
      }
      this.flush();
      this.seen.add(visit.name);
      if (QUIET_STATE_TYPES.has(visit.type) && visit.status === 'succeeded') continue;
      this.say(stateLine(visit));
    }
  }

  flush(): void {
    if (!this.loop) return;
    const { names, rounds, from, to } = this.loop;
    const took = to ? formatDuration(to.getTime() - from.getTime()) : '';
    this.say(`  ↻ ${names.join(' → ')}: ${rounds} more round${rounds === 1 ? '' : 's'}, ${took}`);
    this.loop = undefined;
  }
}

function stateLine(visit: StateVisit): string {
  const took = visit.exitedAt ? formatDuration(visit.exitedAt.getTime() - visit.enteredAt.getTime()) : '';
  const mark = visit.status === 'succeeded' ? '✔' : visit.status === 'aborted' ? '■' : '✖';
  const why = visit.error ? `  ${visit.error}${visit.status === 'caught' ? ' (caught)' : ''}` : '';
  return `  ${mark} ${visit.name.padEnd(22)} ${took.padStart(9)}${why}`;
}

/** Reports the run's training job and endpoint (or transform job) whenever their SageMaker status changes. */
class ResourceWatcher {
  private training?: ResourceStatus;
  private endpoint?: ResourceStatus;
  private transform?: ResourceStatus;

  constructor(
    private readonly target: Target,
    private readonly say: (line: string) => void,
  ) {}

  async poll(run: RunConfig, visits: StateVisit[], finished: boolean): Promise<void> {
    const entered = (name: string) => visits.some((visit) => visit.name === name);
    const trainingSettled = this.training && FINAL_TRAINING_STATUSES.has(this.training.status);
    if (entered('Train') && (!trainingSettled || finished)) {
      this.training = this.report(
        'training job',
        this.training,
        await trainingJobStatus(this.target, run.names.trainingJob),
      );
    }
    const transformSettled = this.transform && FINAL_TRAINING_STATUSES.has(this.transform.status);
    if (entered('Transform') && (!transformSettled || finished)) {
      this.transform = this.report(
        'transform job',
        this.transform,
        await transformJobStatus(this.target, run.names.transformJob),
      );
    }
    const endpointGone = this.endpoint?.status === 'not found';
    if (entered('CreateEndpoint') && !endpointGone) {
      this.endpoint = this.report('endpoint', this.endpoint, await endpointStatus(this.target, run.names.endpoint));
    }
  }

  private report(kind: string, before: ResourceStatus | undefined, now: ResourceStatus): ResourceStatus | undefined {
    const changed = before?.status !== now.status || (kind !== 'endpoint' && before?.detail !== now.detail);
    const unseen = !before && now.status === 'not found';
    if (changed && !unseen) {
      const status = before && now.status === 'not found' ? 'deleted' : now.status;
      this.say(
        `    ${kind} ${now.name}: ${status}${now.detail && now.detail !== now.status ? ` · ${now.detail}` : ''}`,
      );
    }
    return unseen ? before : now;
  }
}
