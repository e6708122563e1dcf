// reportInputFromArtifacts: the report's input from the files a run already wrote, with little glue for callers.
import { parse } from 'csv-parse/sync';
import { parseLabelFirstCsv } from '../domain/dataset';
import { PipelineError } from '../errors';
import type { ManifestArtifact, MetricsArtifact, RunArtifacts, SplitArtifact, TrainingArtifact } from './artifacts';
import type {
  ClassifiedRow,
  ClassifierMetrics,
  FeatureRows,
  Outcome,
  RegressedRow,
  RunReportInput,
  SplitSummary,
  TrainingSummary,
} from './types';

/** A run artifact the report reads (metrics.json, predictions.csv) does not have the shape the pipeline writes. */
export class ReportInputError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportInputError';
  }
}

const CLASSIFIER_COLUMNS = ['true_label', 'predicted_label', 'match'];
const REGRESSOR_COLUMNS = ['true_value', 'predicted_value', 'error'];

function number(text: string, where: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new ReportInputError(`predictions.csv ${where}: "${text}" is not a number`);
  return value;
}

/** predictions.csv: `row, <features…>, true, predicted, match|error`, as src/domain/evaluation.ts writes it. */
export function parsePredictionsCsv(text: string, predictorType: 'classifier'): ClassifiedRow[];
export function parsePredictionsCsv(text: string, predictorType: 'regressor'): RegressedRow[];
export function parsePredictionsCsv(
  text: string,
  predictorType: 'classifier' | 'regressor',
): ClassifiedRow[] | RegressedRow[] {
  const [header, ...rows] = parse(text, { skip_empty_lines: true }) as string[][];
  const expected = predictorType === 'classifier' ? CLASSIFIER_COLUMNS : REGRESSOR_COLUMNS;
  if (!header || header[0] !== 'row' || header.slice(-3).join() !== expected.join()) {
    const wanted = `row, <features…>, ${expected.join(', ')}`;
    throw new ReportInputError(
      `predictions.csv of a ${predictorType} must have the columns ${wanted}; got ${header?.join(', ')}`,
    );
  }
  const featureCount = header.length - 4;
  return rows.map((cells, index) => {
    const where = `record ${index + 1}`;
    const features = cells.slice(1, 1 + featureCount).map((cell) => number(cell, where));
    const [truth, predicted, last] = cells.slice(-3);
    const row = number(cells[0], where);
    return predictorType === 'classifier'
      ? { row, features, trueLabel: truth, predictedLabel: predicted, match: last === 'true' }
      : {
          row,
          features,
          trueValue: number(truth, where),
          predictedValue: number(predicted, where),
          error: number(last, where),
        };
  }) as ClassifiedRow[] | RegressedRow[];
}

function outcomeFrom(metrics: MetricsArtifact, predictionsCsv: string): Outcome {
  if (metrics.predictorType === 'classifier') {
    if (!('accuracy' in metrics.metrics)) throw new ReportInputError('metrics.json of a classifier has no accuracy');
    return {
      predictorType: 'classifier',
      metrics: metrics.metrics as ClassifierMetrics,
      validation: parsePredictionsCsv(predictionsCsv, 'classifier'),
    };
  }
  if (!('rmse' in metrics.metrics)) throw new ReportInputError('metrics.json of a regressor has no rmse');
  return {
    predictorType: 'regressor',
    metrics: metrics.metrics,
    validation: parsePredictionsCsv(predictionsCsv, 'regressor'),
  };
}

/** The whole prepared dataset when at hand (class indices named from the manifest), else the test rows. */
function featureRowsFrom(manifest: ManifestArtifact, outcome: Outcome, preparedDatasetCsv?: string): FeatureRows {
  if (preparedDatasetCsv !== undefined) {
    const { labels, features } = parseLabelFirstCsv(preparedDatasetCsv, 'prepared/dataset.csv');
    const classes = manifest.classes;
    const target = (label: number) => (classes ? (classes[label] ?? String(label)) : label);
    return {
      origin: 'dataset',
      points: features.map((row, index) => ({ features: row, target: target(labels[index]) })),
    };
  }
  const points =
    outcome.predictorType === 'classifier'
      ? outcome.validation.map((row) => ({ features: row.features, target: row.trueLabel }))
      : outcome.validation.map((row) => ({ features: row.features, target: row.trueValue }));
  return { origin: 'test rows', points };
}

function splitFrom(split: SplitArtifact | null | undefined): SplitSummary | null {
  if (!split) return null;
  return {
    trainRows: split.trainRows,
    testRows: split.testRows,
    seed: split.seed,
    testFraction: split.testFraction,
  };
}

function trainingFrom(
  training: TrainingArtifact | null | undefined,
  hyperParameters?: Record<string, string>,
): TrainingSummary | null {
  if (!training && !hyperParameters) return null;
  return {
    trainingJobName: training?.TrainingJobName ?? null,
    hyperParameters: hyperParameters ?? training?.HyperParameters ?? {},
    finalMetrics: (training?.FinalMetricDataList ?? []).map(({ MetricName, Value }) => ({ MetricName, Value })),
    billableSeconds: training?.BillableTimeInSeconds ?? null,
    statusTransitions: training?.SecondaryStatusTransitions ?? [],
  };
}

export function reportInputFromArtifacts(artifacts: RunArtifacts): RunReportInput {
  const { manifest, metrics } = artifacts;
  const outcome = outcomeFrom(metrics, artifacts.predictionsCsv);
  return {
    runId: metrics.runId ?? manifest.runId,
    generatedAt: artifacts.generatedAt,
    dataset: {
      sourceUri: manifest.source.uri,
      rowCount: manifest.rowCount,
      featureNames: manifest.featureNames,
      labelColumn: manifest.labelColumn,
      classes: manifest.classes,
      classCounts: manifest.classCounts,
      warnings: manifest.warnings ?? [],
    },
    featureRows: featureRowsFrom(manifest, outcome, artifacts.preparedDatasetCsv),
    split: splitFrom(artifacts.split),
    training: trainingFrom(artifacts.training ?? metrics.training, artifacts.hyperParameters),
    outcome,
    gate: metrics.gate ?? null,
    crossValidation: metrics.crossValidation ?? null,
    serving:
      metrics.promotion && metrics.promotion.decision !== 'off'
        ? {
            decision: metrics.promotion.decision,
            reason: metrics.promotion.reason,
            outcome: artifacts.serving?.outcome ?? null,
            message: artifacts.serving?.message ?? null,
          }
        : null,
    ...(artifacts.executionPath ? { executionPath: artifacts.executionPath } : {}),
    ...(artifacts.cost ? { cost: artifacts.cost } : {}),
  };
}
