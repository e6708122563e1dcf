// reportInputFromArtifacts: the report's input from the files a run already wrote, with little glue for callers;
// reportInputFromStreams: the same from streams of the big files, keeping only what the report shows of them.
import { parse } from 'csv-parse/sync';
import type {
  MetricsArtifact,
  RunArtifacts,
  RunContext,
  RunDataStreams,
  RunStreams,
  SplitArtifact,
  TrainingArtifact,
} from './artifacts';
import { ReportInputError } from './errors';
import {
  digestDataset,
  digestDatasetBytes,
  digestPredictions,
  digestPredictionsBytes,
  predictionRow,
  predictionsFeatureCount,
  type PredictionsDigest,
} from './streamed';
import type {
  ClassifiedRow,
  ClassifierMetrics,
  FeatureRows,
  Outcome,
  RegressedRow,
  RunReportInput,
  SplitSummary,
  TrainingSummary,
  ValidationDigest,
} from './types';

export { ReportInputError };

/** predictions.csv: `row, <features…>, true, predicted, match|error`, as src/domain/evaluation.ts writes it. */
export function parsePredictionsCsv(text: string, predictorType: 'classifier'): ClassifiedRow[];
export function parsePredictionsCsv(text: string, predictorType: 'regressor'): RegressedRow[];
export function parsePredictionsCsv(
  text: string,
  predictorType: 'classifier' | 'regressor',
): ClassifiedRow[] | RegressedRow[] {
  const [header, ...rows] = parse(text, { skip_empty_lines: true }) as string[][];
  const featureCount = predictionsFeatureCount(header, predictorType);
  return rows.map((cells, index) => predictionRow(cells, featureCount, predictorType, index)) as
    ClassifiedRow[] | RegressedRow[];
}

function outcomeFrom(metrics: MetricsArtifact, predictions: PredictionsDigest): Outcome {
  if (metrics.predictorType === 'classifier') {
    if (!('accuracy' in metrics.metrics)) throw new ReportInputError('metrics.json of a classifier has no accuracy');
    return {
      predictorType: 'classifier',
      metrics: metrics.metrics as ClassifierMetrics,
      validation: predictions.validation as ClassifiedRow[],
      digest: predictions.digest as ValidationDigest<ClassifiedRow>,
    };
  }
  if (!('rmse' in metrics.metrics)) throw new ReportInputError('metrics.json of a regressor has no rmse');
  return {
    predictorType: 'regressor',
    metrics: metrics.metrics,
    validation: predictions.validation as RegressedRow[],
    digest: predictions.digest as ValidationDigest<RegressedRow>,
  };
}

/** Categorical columns keep their text in the prepared rows and predictions.csv (feature engineering). */
function hasTextFeatures(manifest: { features?: { categorical: string[] } }): boolean {
  return (manifest.features?.categorical.length ?? 0) > 0;
}

/** The charts' samples are drawn with the split's seed: the same run always gives the same report. */
function sampleSeed(split: SplitArtifact | null | undefined): number {
  return split?.seed ?? 0;
}

function bytesOf(data: string | Uint8Array | Float64Array): Uint8Array {
  if (typeof data === 'string') return new TextEncoder().encode(data);
  return data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
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

/** The report's input from what a run wrote, the big files given whole (tests, the CLI). */
export function reportInputFromArtifacts(artifacts: RunArtifacts): RunReportInput {
  const seed = sampleSeed(artifacts.split);
  const { preparedFeaturesCsv: features, preparedLabels: labels } = artifacts;
  const withDataset = features !== undefined && labels !== undefined;
  const textFeatures = hasTextFeatures(artifacts.manifest);
  const predictions = digestPredictionsBytes(
    bytesOf(artifacts.predictionsCsv),
    artifacts.metrics.predictorType,
    seed,
    !withDataset,
    textFeatures,
  );
  const featureRows = withDataset
    ? digestDatasetBytes(bytesOf(features), bytesOf(labels), artifacts.manifest, seed, textFeatures)
    : predictions.testPoints;
  return assemble(artifacts, predictions, featureRows);
}

/**
 * The report's input from what a run wrote, the big files as streams (the Report function): memory stays bounded
 * whatever their size. The dataset's two files and predictions.csv are read at the same time.
 */
export async function reportInputFromStreams(streams: RunStreams): Promise<RunReportInput> {
  return reportInputFromRunData(streams, await readRunData(streams));
}

/** What the report keeps of a run's big files. */
export interface RunData {
  predictions: PredictionsDigest;
  featureRows: FeatureRows;
}

/**
 * Reads a run's big files as streams, keeping only what the report shows of them (reportInputFromStreams in two
 * steps, for a caller with other things to fetch meanwhile).
 */
export async function readRunData(streams: RunDataStreams): Promise<RunData> {
  const seed = sampleSeed(streams.split);
  const { preparedFeatures, preparedLabels } = streams;
  const withDataset = preparedFeatures !== undefined && preparedLabels !== undefined;
  const [predictions, datasetRows] = await Promise.all([
    digestPredictions(
      streams.predictions,
      streams.metrics.predictorType,
      seed,
      !withDataset,
      hasTextFeatures(streams.manifest),
    ),
    withDataset
      ? digestDataset(preparedFeatures, preparedLabels, streams.manifest, seed, hasTextFeatures(streams.manifest))
      : undefined,
  ]);
  return { predictions, featureRows: datasetRows ?? predictions.testPoints };
}

/**
 * The report's input before the big files have been read: their part is empty (no rows, no counts). For
 * renderRunReportAsDataArrives, whose sections that need them wait for the complete input.
 */
export function reportInputBeforeData(artifacts: RunContext): RunReportInput {
  const digest: ValidationDigest<never> = { testRows: 0, notableRows: 0, tableRows: [] };
  const empty: PredictionsDigest = { validation: [], digest, testPoints: { origin: 'test rows', points: [] } };
  return assemble(artifacts, empty, { origin: 'dataset', points: [] });
}

/** The report's input from a run's artifacts and what readRunData kept of its big files. */
export function reportInputFromRunData(artifacts: RunContext, { predictions, featureRows }: RunData): RunReportInput {
  return assemble(artifacts, predictions, featureRows);
}

function assemble(artifacts: RunContext, predictions: PredictionsDigest, featureRows: FeatureRows): RunReportInput {
  const { manifest, metrics } = artifacts;
  const outcome = outcomeFrom(metrics, predictions);
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
    featureRows,
    split: splitFrom(artifacts.split),
    training: trainingFrom(artifacts.training ?? metrics.training, artifacts.hyperParameters),
    outcome,
    gate: metrics.gate ?? null,
    crossValidation: metrics.crossValidation ?? null,
    tuning: artifacts.trials ?? null,
    serving:
      metrics.promotion && metrics.promotion.decision !== 'off'
        ? {
            decision: metrics.promotion.decision,
            reason: metrics.promotion.reason,
            outcome: artifacts.serving?.outcome ?? null,
            message: artifacts.serving?.message ?? null,
          }
        : null,
    features: manifest.features
      ? {
          dropped: manifest.features.dropped,
          categorical: manifest.features.categorical,
          categoricalChoice: manifest.features.categoricalChoice,
          transform: artifacts.transform ?? null,
        }
      : null,
    ...(artifacts.executionPath ? { executionPath: artifacts.executionPath } : {}),
    ...(artifacts.cost ? { cost: artifacts.cost } : {}),
  };
}
