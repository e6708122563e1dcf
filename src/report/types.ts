// What a run report shows: plain data, no AWS types, so any caller (Lambda, CLI, test) can build it.
import type { FeatureTransform } from '../artifacts/schemas';
import type {
  ClassifierMetrics,
  CrossValidationSummary,
  Trials,
  FinalMetric,
  GateResult,
  NamedClassMetrics,
  PredictorType,
  RegressorMetrics as RegressionMetrics,
} from '../artifacts';

export type { ClassifierMetrics, FinalMetric, GateResult, NamedClassMetrics, PredictorType, RegressionMetrics };

/** Rows of a uniform random sample: how many rows it was drawn from, and the seed that drew it. */
export interface SampleOrigin {
  rows: number;
  seed: number;
}

export interface DatasetSummary {
  sourceUri: string;
  rowCount: number;
  featureNames: string[];
  labelColumn: string;
  /** Class names in label-index order; null for a regressor. */
  classes: string[] | null;
  /** Rows per class name; null for a regressor. */
  classCounts: Record<string, number> | null;
  warnings: string[];
}

/** One row of the dataset as the scatter matrix draws it: its features and its class name (or target value). */
export interface LabelledPoint {
  features: number[];
  target: string | number;
}

export interface FeatureRows {
  points: LabelledPoint[];
  /** Which rows these are: the whole prepared dataset, or only the test rows when the dataset was not at hand. */
  origin: 'dataset' | 'test rows';
  /** Set when `points` is a uniform random sample of more rows (the data was read as a stream). */
  sampledFrom?: SampleOrigin;
  /** A regressor's targets for its histogram, when they are a larger sample than `points` (else the points'). */
  targets?: { values: number[]; sampledFrom?: SampleOrigin };
}

export interface SplitSummary {
  trainRows: number;
  testRows: number;
  seed: number;
  testFraction: number;
}

/** A DescribeTrainingJob SecondaryStatusTransitions entry; times as ISO strings, epoch numbers or Dates. */
export interface StatusTransition {
  Status: string;
  StartTime?: string | number | Date;
  EndTime?: string | number | Date;
  StatusMessage?: string;
}

export interface TrainingSummary {
  trainingJobName: string | null;
  hyperParameters: Record<string, string>;
  finalMetrics: FinalMetric[];
  billableSeconds: number | null;
  statusTransitions: StatusTransition[];
}

export interface ClassifiedRow {
  row: number;
  features: number[];
  trueLabel: string;
  predictedLabel: string;
  match: boolean;
}

export interface RegressedRow {
  row: number;
  features: number[];
  trueValue: number;
  predictedValue: number;
  /** predicted − true, as predictions.csv writes it. */
  error: number;
}

/**
 * What the report keeps of predictions.csv when it reads it as a stream: exact counts, and only the rows it shows.
 * Without it, the sections work these out from `validation` (which then holds every test row).
 */
export interface ValidationDigest<Row> {
  /** Every test row of predictions.csv. */
  testRows: number;
  /** Misclassified rows (classifier), or rows whose absolute error is in the worst tenth (regressor). */
  notableRows: number;
  /** What the validation table lists: the first notable rows, then the first others, in test-row order. */
  tableRows: Row[];
  /** Regressor: the absolute error from which a row is highlighted. */
  largeErrorThreshold?: number;
  /** Set when `validation` is a uniform random sample of the test rows rather than all of them. */
  sampledFrom?: SampleOrigin;
}

/**
 * Metrics and the validation table, of one predictor type so they cannot be mixed up. `validation`: every test row,
 * or a uniform random sample of them when `digest.sampledFrom` says so (what the charts draw).
 */
export type Outcome =
  | {
      predictorType: 'classifier';
      metrics: ClassifierMetrics;
      validation: ClassifiedRow[];
      digest?: ValidationDigest<ClassifiedRow>;
    }
  | {
      predictorType: 'regressor';
      metrics: RegressionMetrics;
      validation: RegressedRow[];
      digest?: ValidationDigest<RegressedRow>;
    };

export interface ExecutionStep {
  state: string;
  status: string;
  /** null while the state was still running (or never exited). */
  durationMs: number | null;
  error?: string;
}

export interface InstanceUsage {
  instanceType: string;
  instanceCount: number;
  /** Seconds per instance: billable training time, or the endpoint's lifetime. null when unknown. */
  seconds: number | null;
}

export interface CostInput {
  training: InstanceUsage;
  endpoint?: InstanceUsage;
}

export interface RunReportInput {
  runId: string;
  /** ISO time shown in the header; the caller passes it so that a report is reproducible. */
  generatedAt?: string;
  dataset: DatasetSummary;
  featureRows: FeatureRows;
  split: SplitSummary | null;
  training: TrainingSummary | null;
  outcome: Outcome;
  gate: GateResult | null;
  executionPath?: ExecutionStep[];
  cost?: CostInput;
  /** Per-fold and mean ± std scores when the run cross-validated (metrics.json crossValidation). */
  crossValidation?: CrossValidationSummary | null;
  /** Tuning on: every trial of the tuning job and the chosen one (tuning/trials.json). */
  tuning?: Trials | null;
  /** Serving mode: the promotion decision and, when recorded, what serves afterwards (serving.json). */
  serving?: ServingSummary | null;
  /** Feature engineering: how the columns were read, and the transform fitted on the training rows. */
  features?: FeaturesSummary | null;
}

export interface FeaturesSummary {
  dropped: string[];
  categorical: string[];
  categoricalChoice: 'list' | 'auto';
  transform: FeatureTransform | null;
}

export interface ServingSummary {
  decision: string;
  reason: string;
  outcome: string | null;
  message: string | null;
}
