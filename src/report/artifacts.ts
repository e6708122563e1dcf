// The shapes of what the pipeline already writes, as far as the report reads them. Structural on purpose:
// functions/prepare.ts's DatasetManifest, functions/split.ts's SplitFile and metrics.json fit without glue.
import type { EvaluationMetrics } from '../domain/evaluation';
import type { CrossValidationSummary } from '../domain/crossValidation';
import type { CostInput, ExecutionStep, FinalMetric, GateResult, PredictorType, StatusTransition } from './types';

/** prepared/manifest.json (DatasetManifest). */
export interface ManifestArtifact {
  runId: string;
  source: { uri: string };
  labelColumn: string;
  predictorType: PredictorType;
  featureNames: string[];
  classes: string[] | null;
  classCounts: Record<string, number> | null;
  rowCount: number;
  warnings: string[];
}

/** The Train state's result ($.training) or a DescribeTrainingJob answer: every field optional. */
export interface TrainingArtifact {
  TrainingJobName?: string;
  FinalMetricDataList?: FinalMetric[];
  BillableTimeInSeconds?: number;
  HyperParameters?: Record<string, string>;
  SecondaryStatusTransitions?: StatusTransition[];
}

/** evaluation/metrics.json as the Evaluate handler writes it. */
export interface MetricsArtifact {
  runId: string;
  predictorType: PredictorType;
  metrics: EvaluationMetrics;
  gate?: GateResult | null;
  training?: TrainingArtifact | null;
  crossValidation?: CrossValidationSummary | null;
  promotion?: { decision: string; reason: string } | null;
  evaluatedAt?: string;
}

/** prepared/split.json (SplitFile, with row index lists) or just the counts, as the Split state returns them. */
export interface SplitArtifact {
  seed: number;
  testFraction: number;
  train: number[] | number;
  test: number[] | number;
}

export interface RunArtifacts {
  manifest: ManifestArtifact;
  metrics: MetricsArtifact;
  /** evaluation/predictions.csv: the validation table. */
  predictionsCsv: string;
  /** prepared/dataset.csv (headerless, label first); without it the scatter matrix shows the test rows only. */
  preparedDatasetCsv?: string;
  split?: SplitArtifact | null;
  /** Defaults to metrics.training. */
  training?: TrainingArtifact | null;
  /** run.training.hyperParameters; defaults to training.HyperParameters. */
  hyperParameters?: Record<string, string>;
  executionPath?: ExecutionStep[];
  cost?: CostInput;
  /** runs/<runId>/serving.json, when serving mode recorded an outcome. */
  serving?: { outcome?: string; message?: string } | null;
  generatedAt?: string;
}
