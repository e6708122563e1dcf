// `knn-pipeline runs`: recent executions with status, duration, trigger and the headline metric from metrics.json.
import { capacityWaits, describeWait } from '../../common/capacity';
import { ListExecutionsCommand, type ExecutionStatus } from '@aws-sdk/client-sfn';
import {
  datasetOf,
  describeExecution,
  durationMs,
  earliestEvents,
  latestEvents,
  runConfigFromHistory,
  stateVisits,
  triggerOf,
} from '../../common/executions';
import { formatDate, formatDuration, metricValue, statusLabel, table } from '../../common/format';
import { EXIT, type Io } from '../../common/io';
import { headline, readEvaluation } from '../../common/report';
import type { Target } from '../../common/target';

export interface RunsOptions {
  max?: number;
  status?: ExecutionStatus;
  json?: boolean;
}

export interface RunListing {
  executionName: string;
  executionArn: string;
  status: string;
  startDate: string;
  stopDate: string | null;
  durationMs: number;
  trigger: string;
  dataset: string;
  runId: string | null;
  /** The quality gate's metric and value (accuracy for the Iris default) once Evaluate wrote metrics.json. */
  metric: { name: string; value: number | null } | null;
  gatePassed: boolean | null;
  /** The state a running execution is in, or the error a failed one ended with. */
  note: string | null;
}

export async function listRuns(target: Target, options: RunsOptions): Promise<RunListing[]> {
  const { executions = [] } = await target.sfn.send(
    new ListExecutionsCommand({
      stateMachineArn: target.stateMachineArn,
      maxResults: options.max ?? 10,
      statusFilter: options.status,
    }),
  );
  return Promise.all(
    executions.map(async (item): Promise<RunListing> => {
      const execution = await describeExecution(target, item.executionArn!);
      const run = runConfigFromHistory(await earliestEvents(target, item.executionArn!));
      const evaluation = run ? await readEvaluation(target, run) : undefined;
      let note = execution.error ?? shorten(execution.cause) ?? null;
      if (execution.status === 'RUNNING') {
        const current = stateVisits((await latestEvents(target, item.executionArn!)).reverse()).pop();
        note = current ? `in ${current.name}` : null;
        const waiting = run ? (await capacityWaits(target, run)).find((w) => w.status === 'waiting') : undefined;
        if (waiting) note = describeWait(waiting);
      }
      return {
        executionName: execution.name!,
        executionArn: execution.executionArn!,
        status: execution.status!,
        startDate: execution.startDate!.toISOString(),
        stopDate: execution.stopDate?.toISOString() ?? null,
        durationMs: durationMs(execution),
        trigger: triggerOf(execution),
        dataset: run?.dataset.key ?? datasetOf(execution),
        runId: run?.runId ?? null,
        metric: evaluation ? headline(evaluation) : null,
        gatePassed: evaluation?.gate?.passed ?? null,
        note,
      };
    }),
  );
}

function shorten(text: string | undefined, max = 40): string | undefined {
  return text && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export async function runsCommand(target: Target, options: RunsOptions, io: Io): Promise<number> {
  const runs = await listRuns(target, options);
  if (options.json) {
    io.out(JSON.stringify(runs, null, 2));
    return EXIT.ok;
  }
  if (runs.length === 0) {
    io.out(`No executions${options.status ? ` with status ${options.status}` : ''} in ${target.description}.`);
    return EXIT.ok;
  }
  const rows = runs.map((run) => [
    run.executionName,
    statusLabel(run.status),
    formatDate(new Date(run.startDate)),
    formatDuration(run.durationMs),
    run.trigger,
    run.dataset,
    run.metric ? `${run.metric.name} ${metricValue(run.metric.value)}${run.gatePassed === false ? ' ✖ gate' : ''}` : '',
    run.note ?? '',
  ]);
  io.out(`Recent runs in ${target.description}`);
  io.out(table(['EXECUTION', 'STATUS', 'STARTED', 'DURATION', 'TRIGGER', 'DATASET', 'RESULT', 'NOTE'], rows, [3]));
  return EXIT.ok;
}
