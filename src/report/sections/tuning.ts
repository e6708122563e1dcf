// Hyperparameter tuning: each trial's objective on the validation split against k, and the trial that was chosen.
import { renderChart } from '../charts/render';
import { trialsSpec } from '../charts/tuning';
import { figure, paragraph, section, table, type ReportSection } from '../html';
import type { RunReportInput } from '../types';

export async function tuningSection({ tuning }: RunReportInput): Promise<ReportSection> {
  if (!tuning) {
    return section(
      'tuning',
      'Tuning',
      paragraph('Not requested for this run (execution input tuning, stage parameter tuning, --tune).', 'note'),
    );
  }
  const metric = tuning.objective.metricName;
  const names = [...new Set(tuning.trials.flatMap((trial) => Object.keys(trial.hyperParameters)))].sort();
  const chosen = tuning.trials.find((trial) => trial.chosen);
  const points = tuning.trials
    .filter((trial) => trial.objective !== undefined && trial.hyperParameters.k !== undefined)
    .map((trial) => ({
      k: Number(trial.hyperParameters.k),
      objective: trial.objective!,
      sampleSize: names.includes('sample_size') ? (trial.hyperParameters.sample_size ?? '') : '',
      chosen: trial.chosen,
    }));
  const chart =
    points.length > 0
      ? figure(
          await renderChart(trialsSpec(points, metric), `${metric} against k per trial`, 'tuning-trials'),
          `${metric} of each training job of the tuning job on the validation split (one point per trial); the diamond marks the chosen trial.`,
        )
      : '';
  const rows = tuning.trials.map((trial) => [
    trial.trainingJobName,
    ...names.map((name) => trial.hyperParameters[name] ?? ''),
    trial.objective === undefined ? '' : trial.objective.toFixed(4),
    trial.status,
    trial.chosen ? 'chosen' : '',
  ]);
  const tuned = chosen ? names.map((name) => `${name} = ${chosen.hyperParameters[name]}`).join(', ') : 'none';
  const direction = tuning.objective.type === 'Maximize' ? 'highest' : 'lowest';
  return section(
    'tuning',
    'Tuning',
    paragraph(
      `${tuning.strategy} search (${tuning.tuningJobName}, ${tuning.trials.length} training jobs), each scored by ${metric} ` +
        `on a validation split of ${tuning.validationFraction} of the training rows, never on the held-out test rows. ` +
        `Chosen: ${tuned}, the ${direction} ${metric} (a tie goes to the smallest k); the final model trains with it on all training rows.`,
    ) +
      chart +
      table(['training job', ...names, metric, 'status', ''], rows),
  );
}
