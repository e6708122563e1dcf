// The JSON files a run writes under runs/<runId>/, one schema each: the single description of their shape.
// Objects are strict, so a field written but not described here fails at write time instead of drifting silently.
import { z } from 'zod';
import { PredictorTypeSchema } from './predictorType';
import { EVALUATION_MODES } from './evaluationMode';

const isoTime = z.iso.datetime();
const count = z.int().nonnegative();

/** The dataset a run reads, as Prepare located it (run.dataset). */
export const DatasetRefSchema = z.strictObject({
  bucket: z.string(),
  key: z.string(),
  versionId: z.string().optional(),
  etag: z.string().optional(),
  uri: z.string(),
});

/** How Prepare read the feature columns (the run's `features` options applied to the header and the values). */
export const PreparedFeaturesSchema = z.strictObject({
  /** Columns left out of the prepared dataset (features.drop). */
  dropped: z.array(z.string()),
  /** Columns kept as text for one-hot encoding, and how they were chosen: listed, or every non-numeric column. */
  categorical: z.array(z.string()),
  categoricalChoice: z.enum(['list', 'auto']),
  /** Whether Upload fits a transform (scaling, one-hot or PCA); false: the channels hold the prepared rows as is. */
  transformed: z.boolean(),
});

/** prepared/manifest.json, written by Prepare. */
export const ManifestSchema = z.strictObject({
  runId: z.string(),
  source: DatasetRefSchema.extend({ size: count }),
  labelColumn: z.string(),
  predictorType: PredictorTypeSchema,
  featureNames: z.array(z.string()),
  /** Class names in label-index order; null for a regressor. */
  classes: z.array(z.string()).nullable(),
  /** Rows per class name; null for a regressor. */
  classCounts: z.record(z.string(), count).nullable(),
  rowCount: count,
  warnings: z.array(z.string()),
  /** The feature options as applied (absent in runs from before feature engineering: all numeric, none dropped). */
  features: PreparedFeaturesSchema.optional(),
  preparedAt: isoTime,
});

const SplitCountsSchema = z.strictObject({ trainRows: count, testRows: count });

/**
 * prepared/split.json, written by Split: which rows go where, as counts and a seed. The rows themselves follow from
 * them (src/domain/split.ts): the test rows are the first testRows of numpy's RandomState(seed).permutation(rowCount),
 * the training rows the rest, in that order (scikit-learn's train_test_split).
 */
export const SplitSchema = z.strictObject({
  seed: z.int(),
  testFraction: z.number().gt(0).lt(1),
  rowCount: count,
  trainRows: count,
  testRows: count,
  /** KFold(shuffle=True, random_state=seed) folds, only when cross-validation was asked for. */
  folds: z.array(SplitCountsSchema).optional(),
  /**
   * Tuning on: the validation split of the training rows (src/domain/split.ts tuningRows), train_test_split of the
   * training rows in channel order with test_size=validationFraction and random_state=seed.
   */
  tuning: z
    .strictObject({ validationFraction: z.number().gt(0).lt(1), trainRows: count, validationRows: count })
    .optional(),
});

/** claim.json, written once by the first execution for an upload (conditional write): the exactly-once marker. */
export const ClaimSchema = z.strictObject({
  executionName: z.string(),
  dataset: DatasetRefSchema,
  claimedAt: isoTime,
});

export const NamedClassMetricsSchema = z.strictObject({
  label: z.string(),
  index: count,
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  support: count,
});

export const ClassifierMetricsSchema = z.strictObject({
  accuracy: z.number(),
  macroPrecision: z.number(),
  macroRecall: z.number(),
  macroF1: z.number(),
  weightedPrecision: z.number(),
  weightedRecall: z.number(),
  weightedF1: z.number(),
  perClass: z.array(NamedClassMetricsSchema),
  /** Rows: true class, columns: predicted class. */
  confusionMatrix: z.array(z.array(count)),
});

export const RegressorMetricsSchema = z.strictObject({
  mse: z.number(),
  rmse: z.number(),
  mae: z.number(),
  r2: z.number(),
});

export const EvaluationMetricsSchema = z.union([ClassifierMetricsSchema, RegressorMetricsSchema]);

export const GateResultSchema = z.strictObject({
  metric: z.string(),
  threshold: z.number(),
  direction: z.enum(['min', 'max']),
  value: z.number().nullable(),
  passed: z.boolean(),
  message: z.string(),
});

export const MetricSpreadSchema = z.strictObject({
  mean: z.number(),
  std: z.number(),
  min: z.number(),
  max: z.number(),
});

export const CrossValidationSummarySchema = z.strictObject({
  folds: count,
  perFold: z.array(
    z.strictObject({
      fold: z.int().positive(),
      trainingJobName: z.string(),
      trainRows: count,
      testRows: count,
      metrics: z.record(z.string(), z.number()),
    }),
  ),
  metrics: z.record(z.string(), MetricSpreadSchema),
  highSpread: z.boolean(),
  message: z.string(),
});

export const PromotionDecisionSchema = z.enum(['create', 'promote', 'keep', 'gate-failed', 'off']);

export const PromotionSchema = z.strictObject({
  decision: PromotionDecisionSchema,
  reason: z.string(),
  metric: z.string(),
  candidate: z.number().nullable(),
  champion: z.number().nullable(),
  servingEndpoint: z.string().optional(),
  previousConfig: z.string().optional(),
});

export const FinalMetricSchema = z.object({ MetricName: z.string(), Value: z.number() });

/**
 * The Train state's result ($.training, its ResultSelector). Not strict: it is SageMaker's answer, so a field the
 * definition starts selecting is still written (as given) and only left out of what a reader gets.
 */
export const TrainingResultSchema = z.object({
  TrainingJobName: z.string().optional(),
  TrainingJobArn: z.string().optional(),
  S3ModelArtifacts: z.string().optional(),
  FinalMetricDataList: z.array(FinalMetricSchema).optional(),
  BillableTimeInSeconds: z.number().optional(),
});

export const EvaluationModeSchema = z.enum(EVALUATION_MODES);

/** evaluation/metrics.json, written by Evaluate. */
export const MetricsSchema = z.strictObject({
  runId: z.string(),
  predictorType: PredictorTypeSchema,
  dataset: ManifestSchema.shape.source,
  /** The endpoint scored (a real-time or serverless one); null when a batch transform job scored the test rows. */
  endpoint: z.string().nullable(),
  /** How the test rows were scored (absent in runs from before evaluation modes: a real-time endpoint). */
  evaluationMode: EvaluationModeSchema.optional(),
  /** The batch transform job that scored the test rows (evaluation mode batchTransform). */
  transformJob: z.string().optional(),
  testRows: count,
  /** InvokeEndpoint calls for this run's model (0 with a batch transform). */
  invocations: count,
  classes: z.array(z.string()).nullable(),
  metrics: EvaluationMetricsSchema,
  gate: GateResultSchema,
  crossValidation: CrossValidationSummarySchema.nullable(),
  promotion: PromotionSchema,
  /** The stable endpoint's model scored on the same test rows (serving mode), else null. */
  championMetrics: EvaluationMetricsSchema.nullable(),
  training: TrainingResultSchema.nullable(),
  evaluatedAt: isoTime,
});

/**
 * features/transform.json (and features/fold-<n>.json), written by Upload: the feature transform fitted on one set of
 * training rows, applied to the rows of its channels and, for the final one, to every row the model scores
 * (docs/feature-transform.md). Output = [numeric columns scaled, then one-hot columns], then projected by PCA.
 */
export const FeatureTransformSchema = z.strictObject({
  format: z.literal('knn-pipeline/feature-transform@1'),
  /** The raw feature columns a row must have, in this order (the prepared dataset's features). */
  inputFeatures: z.array(z.string()),
  scaling: z.enum(['none', 'standard', 'minmax']),
  /** Numeric columns: value → (value - center) / scale; min and max are the raw training range. */
  numeric: z.array(
    z.strictObject({
      name: z.string(),
      index: count,
      center: z.number(),
      scale: z.number(),
      min: z.number(),
      max: z.number(),
    }),
  ),
  /** Categorical columns: one output per category (sorted), 1 for the row's category; an unseen one gives all zeros. */
  categorical: z.array(z.strictObject({ name: z.string(), index: count, categories: z.array(z.string()) })),
  /** PCA of the scaled and encoded features: output = (x - mean) · components[i]. */
  pca: z
    .strictObject({
      /** features.pca as asked: a number of components, or a fraction of variance in (0, 1). */
      requested: z.number(),
      mean: z.array(z.number()),
      components: z.array(z.array(z.number())),
      /** Of every component (kept or not), largest first: variance (ddof 1) and its share of the total. */
      explainedVariance: z.array(z.number()),
      explainedVarianceRatio: z.array(z.number()),
    })
    .nullable(),
  outputFeatures: z.array(z.string()),
  /** The training rows it was fitted on: which group (train, fold-<n>/train, …) and how many. */
  fittedOn: z.strictObject({ channel: z.string(), rows: count }),
});

export const PromotionOutcomeSchema = z.enum(['promoted', 'superseded', 'rolled-back', 'failed', 'not-settled']);

export const PruneReportSchema = z.strictObject({
  retained: z.array(z.string()),
  deleted: z.array(z.strictObject({ endpointConfig: z.string(), model: z.string() })),
});

/** serving.json, written by Promote in serving mode: which config really serves after the promotion. */
export const ServingSchema = z.strictObject({
  runId: z.string(),
  promotion: PromotionSchema,
  outcome: PromotionOutcomeSchema,
  /** false when the run's model did not end up serving although it should have. */
  succeeded: z.boolean(),
  message: z.string(),
  servingEndpoint: z.string(),
  servingConfig: z.string().optional(),
  previousConfig: z.string().optional(),
  pruned: PruneReportSchema.optional(),
  recordedAt: isoTime,
});

export const TrialSchema = z.strictObject({
  trainingJobName: z.string(),
  status: z.string(),
  /** The tuned hyperparameters (k, sample_size) as SageMaker sent them: strings. */
  hyperParameters: z.record(z.string(), z.string()),
  /** The objective on the validation split; absent when the job produced none. */
  objective: z.number().optional(),
  chosen: z.boolean(),
});

/**
 * tuning/trials.json, written by RecordTuning: every training job of the run's tuning job, scored on the validation
 * split of the training rows (never the held-out test rows), and the one that trained the final model.
 */
export const TrialsSchema = z.strictObject({
  tuningJobName: z.string(),
  strategy: z.enum(['Bayesian', 'Random', 'Grid', 'Hyperband']),
  objective: z.strictObject({ type: z.enum(['Maximize', 'Minimize']), metricName: z.string() }),
  validationFraction: z.number().gt(0).lt(1),
  /** SageMaker's BestTrainingJob; the chosen trial differs only on a tie (the pipeline takes the smallest k). */
  sageMakerBestTrainingJob: z.string().optional(),
  chosen: z.string(),
  trials: z.array(TrialSchema),
  recordedAt: isoTime,
});

/**
 * capacity/<resource>.json under the run: one claim on a SageMaker quota (a training job, endpoint or transform job
 * waiting for instances), rewritten at every poll, so the CLI, the report and the notification can tell the wait.
 */
export const CapacityWaitSchema = z.strictObject({
  scope: z.enum(['training', 'endpoint', 'transform']),
  resource: z.string(),
  /** The service quota, e.g. "ml.m5.large for training job usage", and its value once SageMaker has named it. */
  quota: z.string(),
  limit: z.number().int().nonnegative().optional(),
  status: z.enum(['waiting', 'admitted', 'gave-up']),
  enqueuedAt: isoTime,
  updatedAt: isoTime,
  /** Seconds from joining the queue to admission (or to now, while waiting). */
  waitedSeconds: z.number().nonnegative(),
  polls: z.number().int().nonnegative(),
  /** Claims ahead in the fair queue at the last poll. */
  ahead: z.number().int().nonnegative(),
});

export type CapacityWait = z.infer<typeof CapacityWaitSchema>;
export type DatasetRef = z.infer<typeof DatasetRefSchema>;
export type Trial = z.infer<typeof TrialSchema>;
export type Trials = z.infer<typeof TrialsSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;
export type Split = z.infer<typeof SplitSchema>;
export type Claim = z.infer<typeof ClaimSchema>;
export type NamedClassMetrics = z.infer<typeof NamedClassMetricsSchema>;
export type ClassifierMetrics = z.infer<typeof ClassifierMetricsSchema>;
export type RegressorMetrics = z.infer<typeof RegressorMetricsSchema>;
export type EvaluationMetrics = z.infer<typeof EvaluationMetricsSchema>;
export type GateResult = z.infer<typeof GateResultSchema>;
export type MetricSpread = z.infer<typeof MetricSpreadSchema>;
export type CrossValidationSummary = z.infer<typeof CrossValidationSummarySchema>;
export type PromotionDecision = z.infer<typeof PromotionDecisionSchema>;
export type Promotion = z.infer<typeof PromotionSchema>;
export type FinalMetric = z.infer<typeof FinalMetricSchema>;
export type TrainingResult = z.infer<typeof TrainingResultSchema>;
export type Metrics = z.infer<typeof MetricsSchema>;
export type PromotionOutcome = z.infer<typeof PromotionOutcomeSchema>;
export type PruneReport = z.infer<typeof PruneReportSchema>;
export type Serving = z.infer<typeof ServingSchema>;
export type PreparedFeatures = z.infer<typeof PreparedFeaturesSchema>;
export type FeatureTransform = z.infer<typeof FeatureTransformSchema>;
