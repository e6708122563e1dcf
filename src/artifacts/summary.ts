// The summary of one local run (`npm start -- --json`): the execution's outcome, its evaluation as Evaluate wrote it,
// where each artifact is, the training log, every state visit and what SageMaker still holds.
import { z } from 'zod';
import type { CrossValidationSummary } from '../domain/crossValidation';
import type { EvaluationMetrics, GateResult } from '../domain/evaluation';

const count = z.number().int().min(0);

const classificationMetricsSchema = z.object({
  accuracy: z.number(),
  macroPrecision: z.number(),
  macroRecall: z.number(),
  macroF1: z.number(),
  weightedPrecision: z.number(),
  weightedRecall: z.number(),
  weightedF1: z.number(),
  perClass: z.array(
    z.object({
      label: z.string(),
      precision: z.number(),
      recall: z.number(),
      f1: z.number(),
      support: count,
      index: count,
    }),
  ),
  /** Rows are the true class, columns the predicted class. */
  confusionMatrix: z.array(z.array(count)),
});

const regressionMetricsSchema = z.object({ mse: z.number(), rmse: z.number(), mae: z.number(), r2: z.number() });

export const metricsSchema = z.union([classificationMetricsSchema, regressionMetricsSchema]);

export const gateSchema = z.object({
  metric: z.string(),
  threshold: z.number(),
  direction: z.enum(['min', 'max']),
  value: z.number().nullable(),
  passed: z.boolean(),
  message: z.string(),
});

const spreadSchema = z.object({ mean: z.number(), std: z.number(), min: z.number(), max: z.number() });

export const crossValidationSchema = z.object({
  folds: count,
  perFold: z.array(
    z.object({
      fold: count,
      trainingJobName: z.string(),
      trainRows: count,
      testRows: count,
      metrics: z.record(z.string(), z.number()),
    }),
  ),
  metrics: z.record(z.string(), spreadSchema),
  highSpread: z.boolean(),
  message: z.string(),
});

/** Serving mode: the decision Evaluate took, and what RecordPromotion verified serves afterwards. */
export const servingSchema = z.object({
  decision: z.string(),
  reason: z.string(),
  outcome: z.string().nullable(),
  message: z.string().nullable(),
});

/** An artifact in the bucket, and its copy in the local run folder (null when there is none). */
const locationSchema = z.object({ s3: z.string(), local: z.string().nullable() });

/** One visit of a state (a polling loop and Map iterations visit the same state many times). */
const stateVisitSchema = z.object({
  state: z.string(),
  status: z.enum(['running', 'succeeded', 'failed', 'caught']),
  durationMs: z.number().nullable(),
  error: z.string().optional(),
});

export const runSummarySchema = z.object({
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
  /** Only when the execution did not succeed. */
  error: z.string().nullable().optional(),
  cause: z.string().nullable().optional(),
  executionName: z.string(),
  runId: z.string().nullable(),
  durationMs: z.number(),
  split: z.object({ train: count, test: count }).nullable(),
  metrics: metricsSchema.nullable(),
  classes: z.array(z.string()).nullable(),
  gate: gateSchema.nullable(),
  crossValidation: crossValidationSchema.optional(),
  serving: servingSchema.optional(),
  /** Each artifact of the run by name (manifest, model, metrics, predictions, report…), plus `root`. */
  artifacts: z.record(z.string(), locationSchema),
  trainingLog: z.array(z.string()),
  states: z.array(stateVisitSchema),
  /** SageMaker resources still present after the run: all empty is expected. */
  leftovers: z.object({
    endpoints: z.array(z.string()),
    endpointConfigs: z.array(z.string()),
    models: z.array(z.string()),
  }),
  /** Set when sample_size is below the training rows, so the index held a sample of them. */
  sampledTrainingRows: count.optional(),
});

export type RunSummary = z.infer<typeof runSummarySchema>;

// What Evaluate writes must fit the summary: a change to the domain types breaks the build here, not a reader.
export type SummaryMetrics = z.infer<typeof metricsSchema>;
const _metricsFit = (metrics: EvaluationMetrics): SummaryMetrics => metrics;
const _gateFit = (gate: GateResult): z.infer<typeof gateSchema> => gate;
const _crossValidationFit = (cv: CrossValidationSummary): z.infer<typeof crossValidationSchema> => cv;
