// The evaluation as text tables — validation rows, metrics, confusion matrix, folds, serving — for both programs.
import { parse } from 'csv-parse/sync';
import type { CrossValidationSummary, EvaluationMetrics, GateResult, Trials } from '../../src/artifacts/schemas';
import type { RunDenial, ServingState } from '../../src/artifacts/summary';
import { table } from './format';

/** Rows (header first) as an aligned text table; the columns `alignRight` picks are right-aligned. */
function grid(rows: string[][], alignRight: (column: number) => boolean): string {
  return table(rows[0], rows.slice(1), rows[0].map((_, c) => c).filter(alignRight));
}

function fixed(value: unknown, digits = 4): string {
  return typeof value === 'number' ? value.toFixed(digits) : String(value ?? '');
}

/** The validation table from predictions.csv: each test row, its true and predicted label, and a mark for misses. */
export function renderValidationTable(predictionsCsv: string, maxRows = 60): string {
  const rows = parse(predictionsCsv, { skip_empty_lines: true }) as string[][];
  const [header, ...body] = rows;
  const isClassifier = header.includes('match');
  const shown = body.slice(0, maxRows).map((row) => {
    if (!isClassifier) return row;
    const match = row[row.length - 1] === 'true';
    return [...row.slice(0, -1), match ? '✔' : '✖ wrong'];
  });
  const wrong = isClassifier ? body.filter((row) => row[row.length - 1] !== 'true').length : undefined;
  const title = `Validation (${body.length} test rows${wrong !== undefined ? `, ${wrong} wrong` : ''})`;
  const more = body.length > maxRows ? `\n… ${body.length - maxRows} more rows in predictions.csv` : '';
  const numeric = new Set(
    header.map((h, c) => (body.every((row) => row[c] === '' || Number.isFinite(Number(row[c]))) ? c : -1)),
  );
  return `${title}\n${grid([header, ...shown], (c) => numeric.has(c))}${more}`;
}

export function renderMetrics(metrics: EvaluationMetrics, classes: string[] | null, gate: GateResult | null): string {
  const lines: string[] = [];
  if ('accuracy' in metrics) {
    lines.push(
      `Accuracy ${fixed(metrics.accuracy)}   macro F1 ${fixed(metrics.macroF1)}   weighted F1 ${fixed(metrics.weightedF1)}`,
    );
    const names = classes ?? metrics.perClass.map((c) => c.label);
    const perClass = [['class', 'precision', 'recall', 'f1', 'support']].concat(
      metrics.perClass.map((c) => [c.label, fixed(c.precision), fixed(c.recall), fixed(c.f1), String(c.support)]),
    );
    lines.push(
      '',
      grid(perClass, (c) => c > 0),
    );
    const matrix = [['true \\ predicted', ...names]].concat(
      metrics.confusionMatrix.map((row, i) => [names[i], ...row.map(String)]),
    );
    lines.push(
      '',
      'Confusion matrix (rows: true class, columns: predicted class)',
      grid(matrix, (c) => c > 0),
    );
  } else {
    lines.push(
      `MSE ${fixed(metrics.mse)}   RMSE ${fixed(metrics.rmse)}   MAE ${fixed(metrics.mae)}   R² ${fixed(metrics.r2)}`,
    );
  }
  if (gate) lines.push('', gate.message);
  return lines.join('\n');
}

export function renderCrossValidation(summary: Pick<CrossValidationSummary, 'perFold' | 'message'>): string {
  const names = [...new Set(summary.perFold.flatMap((f) => Object.keys(f.metrics)))];
  const rows = [['fold', 'train', 'test', ...names]].concat(
    summary.perFold.map((f) => [
      String(f.fold),
      String(f.trainRows),
      String(f.testRows),
      ...names.map((n) => fixed(f.metrics[n])),
    ]),
  );
  return `Cross-validation\n${grid(rows, (c) => c > 0)}\n${summary.message}`;
}

/** Tuning: every trial with its tuned hyperparameters and validation objective, the chosen one marked. */
export function renderTuning(trials: Trials): string {
  const names = [...new Set(trials.trials.flatMap((t) => Object.keys(t.hyperParameters)))].sort();
  const rows = [['trial', ...names, trials.objective.metricName, 'status', '']].concat(
    trials.trials.map((t) => [
      t.trainingJobName.slice(trials.tuningJobName.length + 1),
      ...names.map((n) => t.hyperParameters[n] ?? ''),
      t.objective === undefined ? '' : fixed(t.objective),
      t.status,
      t.chosen ? '← chosen' : '',
    ]),
  );
  const chosen = trials.trials.find((t) => t.chosen);
  const tuned = chosen ? names.map((n) => `${n}=${chosen.hyperParameters[n]}`).join(', ') : 'none';
  return (
    `Tuning (${trials.strategy}, ${trials.tuningJobName}; ${trials.objective.metricName} on a validation split of ` +
    `${trials.validationFraction} of the training rows)\n${grid(rows, (c) => c > 0 && c <= names.length + 1)}\n` +
    `Chosen: ${tuned} (${trials.objective.type === 'Maximize' ? 'highest' : 'lowest'} ${trials.objective.metricName}; a tie goes to the smallest k), trained on all training rows.`
  );
}

/** Serving mode: which model serves after the run, and why. */
export function renderServing(serving: ServingState): string {
  const verdict = serving.outcome ?? (serving.decision === 'keep' ? 'kept the champion' : serving.decision);
  return `Serving: ${verdict}\n  ${serving.message ?? serving.reason}`;
}

/** The requests IAM denied: one line each with the principal, the action and the resource. */
export function renderDenials(denials: readonly Pick<RunDenial, 'principal' | 'action' | 'resource'>[]): string {
  const lines = denials.map((d) => `  ✖ ${d.principal}  ${d.action}  ${d.resource}`);
  return [
    `Denied by IAM (${denials.length} request${denials.length === 1 ? '' : 's'}: principal, action, resource)`,
    ...lines,
    '  The roles are in serverless.yml (resources/); --no-iam runs without enforcement to debug.',
  ].join('\n');
}
