// What the report reads of a run's artifacts: the fields it uses, picked from the artifact schemas in src/artifacts,
// so the full artifacts (what the artifact codec decodes) fit as they are and partial ones (tests, the CLI) do too.
import type { FeatureTransform, Manifest, Metrics, Serving, Split, TrainingResult, Trials } from '../artifacts';
import type { CostInput, ExecutionStep, StatusTransition } from './types';

/** prepared/manifest.json, as far as the report reads it. */
export type ManifestArtifact = Pick<
  Manifest,
  'runId' | 'labelColumn' | 'predictorType' | 'featureNames' | 'classes' | 'classCounts' | 'rowCount' | 'warnings'
> & { source: Pick<Manifest['source'], 'uri'> } & Partial<Pick<Manifest, 'features'>>;

/** features/transform.json: the feature transform fitted on the training rows (runs with feature engineering). */
export type TransformArtifact = FeatureTransform;

/** The Train state's result (metrics.json training) or a DescribeTrainingJob answer, which adds these two. */
export type TrainingArtifact = TrainingResult & {
  HyperParameters?: Record<string, string>;
  SecondaryStatusTransitions?: StatusTransition[];
};

/** evaluation/metrics.json, as far as the report reads it. */
export type MetricsArtifact = Pick<Metrics, 'runId' | 'predictorType' | 'metrics'> &
  Partial<Pick<Metrics, 'gate' | 'crossValidation' | 'evaluatedAt'>> & {
    training?: TrainingArtifact | null;
    promotion?: Pick<Metrics['promotion'], 'decision' | 'reason'> | null;
  };

/** prepared/split.json, as far as the report reads it. */
export type SplitArtifact = Pick<Split, 'seed' | 'testFraction' | 'trainRows' | 'testRows'>;

/** serving.json as far as the report reads it: shown as text, so any outcome string fits (Serving's do). */
export type ServingArtifact = Partial<Record<keyof Pick<Serving, 'outcome' | 'message'>, string>>;

export interface RunArtifacts {
  manifest: ManifestArtifact;
  metrics: MetricsArtifact;
  /** evaluation/predictions.csv: the validation table. */
  predictionsCsv: string;
  /**
   * prepared/features.csv (headerless, features only, one row per line) and prepared/labels.f64 (little-endian
   * float64 per row: class index or value); without both the scatter matrix shows the test rows only.
   */
  preparedFeaturesCsv?: string | Uint8Array;
  preparedLabels?: Uint8Array | Float64Array;
  split?: SplitArtifact | null;
  /** Defaults to metrics.training. */
  training?: TrainingArtifact | null;
  /** run.training.hyperParameters; defaults to training.HyperParameters. */
  hyperParameters?: Record<string, string>;
  executionPath?: ExecutionStep[];
  cost?: CostInput;
  /** runs/<runId>/tuning/trials.json, when the run tuned. */
  trials?: Trials | null;
  /** runs/<runId>/serving.json, when serving mode recorded an outcome. */
  serving?: ServingArtifact | null;
  /** The feature transform the model's inputs went through, when the run transformed its features. */
  transform?: TransformArtifact | null;
  generatedAt?: string;
}

/** A chunked byte source that can be read again from the start (objectChunks of an S3 object, a file). */
export type ByteSource = () => AsyncIterable<Uint8Array>;

/** Everything the report reads of a run but its big files (predictions.csv and the prepared dataset). */
export type RunContext = Omit<RunArtifacts, 'predictionsCsv' | 'preparedFeaturesCsv' | 'preparedLabels'>;

/** The big files as streams, and what reading them needs to know. */
export interface RunDataStreams extends Pick<RunContext, 'manifest' | 'metrics' | 'split'> {
  predictions: ByteSource;
  preparedFeatures?: ByteSource;
  preparedLabels?: ByteSource;
}

/** A run's artifacts with the big files as streams: what the Report function reads. */
export type RunStreams = RunContext & RunDataStreams;
