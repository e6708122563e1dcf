// `knn-pipeline show RUN`: one run in full — execution, states, SageMaker resources, metrics, confusion matrix,
// validation table and where its artifacts are.
import {
  renderCrossValidation,
  renderMetrics,
  renderServing,
  renderTuning,
  renderValidationTable,
} from '../../common/render';
import { executionHistory, resolveExecution, runConfigFromHistory } from '../../common/executions';
import { formatDate, formatDuration, statusLabel, table } from '../../common/format';
import { EXIT, type Io } from '../../common/io';
import { buildRunReport, readPredictions, type RunReport, type StateSummary } from '../../common/report';
import type { Target } from '../../common/target';

export interface ShowOptions {
  json?: boolean;
  /** How many validation rows to print. */
  rows?: number;
}

export async function showCommand(target: Target, run: string, options: ShowOptions, io: Io): Promise<number> {
  const execution = await resolveExecution(target, run);
  const events = await executionHistory(target, execution.executionArn!);
  const report = await buildRunReport(target, execution, events);
  if (options.json) {
    io.out(JSON.stringify(report, null, 2));
    return EXIT.ok;
  }
  const config = runConfigFromHistory(events);
  const predictions = config ? await readPredictions(target, config) : undefined;
  io.out(renderReport(report, predictions, options.rows ?? 60));
  return EXIT.ok;
}

export function renderReport(report: RunReport, predictions: string | undefined, maxRows: number): string {
  const sections: string[] = [];
  const overview: [string, string][] = [
    ['Execution', `${report.executionName}   ${statusLabel(report.status)} in ${formatDuration(report.durationMs)}`],
    ['ARN', report.executionArn],
    ['Trigger', `${report.trigger} · ${report.dataset}`],
    [
      'Started',
      `${formatDate(report.startDate ? new Date(report.startDate) : undefined)}${report.stopDate ? `   ended ${formatDate(new Date(report.stopDate))}` : ''}`,
    ],
  ];
  const why = [report.error, report.cause].filter(Boolean).join(': ');
  if (why) overview.push([report.status === 'ABORTED' ? 'Stopped' : 'Error', why]);
  if (report.runId) overview.push(['Run id', report.runId]);
  if (report.sageMaker) {
    const { trainingJob, endpoint, transformJob } = report.sageMaker;
    overview.push([
      'Training job',
      `${trainingJob.name}   ${trainingJob.status}${trainingJob.detail && trainingJob.detail !== trainingJob.status ? ` · ${trainingJob.detail}` : ''}`,
    ]);
    if (transformJob) {
      // Evaluation mode batchTransform: the transform job scored the test rows; there is no endpoint.
      overview.push([
        'Transform job',
        `${transformJob.name}   ${transformJob.status === 'not found' ? 'none (never created)' : transformJob.status}${transformJob.detail ? ` · ${transformJob.detail}` : ''}`,
      ]);
    } else {
      overview.push([
        'Endpoint',
        `${endpoint.name}   ${endpoint.status === 'not found' ? 'none (deleted or never created)' : endpoint.status}`,
      ]);
    }
  }
  sections.push(overview.map(([label, value]) => `${label.padEnd(13)}${value}`).join('\n'));
  sections.push(`States\n${table(['STATE', 'TYPE', 'RESULT', 'VISITS', 'TIME'], report.states.map(stateRow), [3, 4])}`);
  if (report.crossValidation) sections.push(renderCrossValidation(report.crossValidation));
  if (report.tuning) sections.push(renderTuning(report.tuning));
  if (report.metrics) sections.push(renderMetrics(report.metrics, report.classes, report.gate));
  if (report.serving) sections.push(renderServing(report.serving));
  if (predictions) sections.push(renderValidationTable(predictions, maxRows));
  const artifacts = Object.entries(report.artifacts);
  if (artifacts.length) sections.push(renderArtifacts(report));
  return sections.join('\n\n');
}

/** Artifacts as keys relative to the run's prefix (full S3 URIs and local files are in --json). */
function renderArtifacts(report: RunReport): string {
  const root = report.artifactRoot;
  const lines = [`Artifacts   ${root?.s3 ?? ''}`];
  if (root?.local) lines.push(`  local copy ${root.local}  (s3rver keeps each object as <name>._S3rver_object)`);
  const rows = Object.entries(report.artifacts).map(([name, { s3 }]) => [
    name,
    root && s3.startsWith(root.s3) ? s3.slice(root.s3.length) : s3,
  ]);
  lines.push(
    table(['', ''], rows)
      .split('\n')
      .slice(1)
      .map((line) => `  ${line}`)
      .join('\n'),
  );
  return lines.join('\n');
}

function stateRow(state: StateSummary): string[] {
  const marks: Record<StateSummary['status'], string> = {
    succeeded: '✔',
    caught: '✖ caught',
    failed: '✖',
    aborted: '■',
    running: '⋯',
  };
  const result = `${marks[state.status]}${state.error ? ` ${state.error}` : ''}`;
  return [
    state.name,
    state.type,
    result,
    String(state.visits),
    state.durationMs === null ? '' : formatDuration(state.durationMs),
  ];
}
