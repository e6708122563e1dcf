// The states the execution went through, with the time each took.
import { renderChart } from '../charts/render';
import { executionPathSpec, type StateTime } from '../charts/execution';
import { durationMs } from '../format';
import { figure, paragraph, section, table, type ReportSection } from '../html';
import type { ExecutionStep, RunReportInput } from '../types';

/** The worst status of a state's visits names the bar: one failed visit makes the state failed. */
const STATUS_RANK = ['succeeded', 'running', 'caught', 'failed'];

function worse(a: string, b: string): string {
  return STATUS_RANK.indexOf(b) > STATUS_RANK.indexOf(a) ? b : a;
}

/** One bar per state (polling loops visit the same states many times), in order of first visit. */
export function timePerState(steps: ExecutionStep[]): StateTime[] {
  const byState = new Map<string, { ms: number; visits: number; status: string }>();
  for (const step of steps) {
    const entry = byState.get(step.state) ?? { ms: 0, visits: 0, status: 'succeeded' };
    entry.ms += step.durationMs ?? 0;
    entry.visits += 1;
    entry.status = worse(entry.status, step.status);
    byState.set(step.state, entry);
  }
  return [...byState].map(([state, entry]) => ({
    state,
    seconds: entry.ms / 1000,
    label: `${durationMs(entry.ms)}${entry.visits > 1 ? ` (${entry.visits}×)` : ''}`,
    status: entry.status,
  }));
}

/** Time spent waiting for SageMaker capacity: the capacity polls and the waits between them. */
export function capacityWaitMs(steps: ExecutionStep[]): number {
  return steps
    .filter((step) => /^(Await|WaitFor).+Capacity$/.test(step.state))
    .reduce((sum, step) => sum + (step.durationMs ?? 0), 0);
}

export async function executionSection({ executionPath }: RunReportInput): Promise<ReportSection> {
  const title = 'Execution path';
  if (!executionPath?.length) {
    return section(
      'execution-path',
      title,
      paragraph('The execution path was not recorded when this report was made.', 'note'),
    );
  }
  const svg = await renderChart(executionPathSpec(timePerState(executionPath)), 'Time per state', 'execution-path');
  const visits = table(
    ['#', 'state', 'status', 'duration', 'error'],
    executionPath.map((step, index) => [
      index + 1,
      step.state,
      step.status,
      durationMs(step.durationMs),
      step.error ?? '',
    ]),
    {
      numericColumns: new Set([0, 3]),
      rowClass: (index) => (executionPath[index].status === 'failed' ? 'miss' : undefined),
    },
  );
  const details = `<details><summary>All ${executionPath.length} state visits in order</summary>\n${visits}\n</details>`;
  const chart = figure(svg, 'Time spent in each state, all visits added up, in the order the states first ran.');
  const waited = capacityWaitMs(executionPath);
  const waiting = waited
    ? `${paragraph(`Waited ${durationMs(waited)} for SageMaker capacity (account quotas; the fair queue's polls and waits).`)}\n`
    : '';
  return section('execution-path', title, `${waiting}${chart}\n${details}`);
}
