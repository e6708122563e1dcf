// The summary of one local run (`npm start -- --json`): the execution's outcome, its evaluation as Evaluate wrote it,
// where each artifact is, the training log, every state visit and what SageMaker still holds.
import { z } from 'zod';
import {
  CrossValidationSummarySchema,
  EvaluationMetricsSchema,
  GateResultSchema,
  PromotionDecisionSchema,
  PromotionOutcomeSchema,
  TrialsSchema,
} from './schemas';

const count = z.int().nonnegative();

/** Serving mode: the decision Evaluate took (metrics.json), what Promote verified serves afterwards (serving.json). */
export const ServingStateSchema = z.strictObject({
  decision: PromotionDecisionSchema,
  reason: z.string(),
  outcome: PromotionOutcomeSchema.nullable(),
  message: z.string().nullable(),
});

/** An artifact in the bucket, and its copy in the local run folder (null when there is none). */
const LocationSchema = z.strictObject({ s3: z.string(), local: z.string().nullable() });

/** One visit of a state (a polling loop and Map iterations visit the same state many times). */
const StateVisitSchema = z.strictObject({
  state: z.string(),
  status: z.enum(['running', 'succeeded', 'failed', 'caught']),
  durationMs: z.number().nullable(),
  error: z.string().optional(),
});

/**
 * A request the local cloud's IAM denied during the run (local/iam): who (the assumed-role session or user ARN), what,
 * on which resource, and AWS's AccessDenied message. Each distinct denial once (retries repeat the same one).
 */
export const DenialSchema = z.strictObject({
  principal: z.string(),
  action: z.string(),
  resource: z.string(),
  message: z.string(),
});

export const RunSummarySchema = z.strictObject({
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
  /** Only when the execution did not succeed. */
  error: z.string().nullable().optional(),
  cause: z.string().nullable().optional(),
  executionName: z.string(),
  runId: z.string().nullable(),
  durationMs: z.number(),
  split: z.strictObject({ train: count, test: count }).nullable(),
  metrics: EvaluationMetricsSchema.nullable(),
  classes: z.array(z.string()).nullable(),
  gate: GateResultSchema.nullable(),
  crossValidation: CrossValidationSummarySchema.optional(),
  /** Tuning on: every trial of the tuning job (validation-split objective) and the chosen one (tuning/trials.json). */
  tuning: TrialsSchema.optional(),
  serving: ServingStateSchema.optional(),
  /** Each artifact of the run by name (manifest, model, metrics, predictions, report…), plus `root`. */
  artifacts: z.record(z.string(), LocationSchema),
  trainingLog: z.array(z.string()),
  states: z.array(StateVisitSchema),
  /** SageMaker resources still present after the run: all empty is expected. */
  leftovers: z.strictObject({
    endpoints: z.array(z.string()),
    endpointConfigs: z.array(z.string()),
    models: z.array(z.string()),
  }),
  /** Requests IAM denied during the run, in order; empty when none (or when enforcement is off: `--no-iam`). */
  denials: z.array(DenialSchema),
  /** Set when sample_size is below the training rows, so the index held a sample of them. */
  sampledTrainingRows: count.optional(),
});

export type RunSummary = z.infer<typeof RunSummarySchema>;
export type ServingState = z.infer<typeof ServingStateSchema>;
export type RunDenial = z.infer<typeof DenialSchema>;
