// Evaluate's decisions as values: whether to measure the champion, the promotion verdict, metrics.json, the result.
import type { Manifest, Metrics } from '../artifacts/schemas';
import type { CrossValidationSummary, FoldResult } from './crossValidation';
import { summariseCrossValidation } from './crossValidation';
import { checkQualityGate, type EvaluationMetrics, type GateResult } from './evaluation';
import { decidePromotion, type EndpointState, type Promotion } from './promotion';
import type { RunConfig } from './runConfig';

/** What the Train task passed on: the job's name, final metrics and billable time. */
export interface TrainingSummary {
  TrainingJobName?: string;
  FinalMetricDataList?: { MetricName: string; Value: number }[];
  BillableTimeInSeconds?: number;
}

/** Serving mode asks about the stable endpoint only when this run's model passed the gate. */
export function needsChampion(run: Pick<RunConfig, 'serve'>, gate: GateResult): boolean {
  return run.serve.enabled && gate.passed;
}

/** The champion can be measured on the same test rows only while its endpoint is InService. */
export function canMeasureChampion(stable: EndpointState | undefined): boolean {
  return stable?.status === 'InService';
}

export interface ChampionJudgement {
  promotion: Promotion;
  /** The champion's metrics on this run's test rows, when it was measured. */
  championMetrics?: EvaluationMetrics;
}

/**
 * Compares this run's model with the champion (the model behind the stable endpoint), measured freshly on the same
 * test rows when its metrics are given, and decides the promotion.
 */
export function judgeChampion(
  run: Pick<RunConfig, 'qualityGate' | 'serve'>,
  gate: GateResult,
  stable: EndpointState | undefined,
  championMetrics: EvaluationMetrics | undefined,
  incomparable?: string,
): ChampionJudgement {
  const championGate = championMetrics
    ? checkQualityGate(run.qualityGate, metricsRecordOf(championMetrics))
    : undefined;
  const promotion = decidePromotion(
    run.serve.enabled,
    gate,
    { status: stable?.status, configName: stable?.configName, value: championGate?.value, incomparable },
    run.serve.endpointName,
  );
  return { promotion, ...(championMetrics ? { championMetrics } : {}) };
}

/** The metrics as a by-name lookup, the way the quality gate reads them. */
export function metricsRecordOf(metrics: EvaluationMetrics): Record<string, unknown> {
  return metrics as unknown as Record<string, unknown>;
}

export function crossValidationSummary(
  run: Pick<RunConfig, 'predictorType'>,
  folds: FoldResult[] | undefined,
): CrossValidationSummary | undefined {
  return folds?.length ? summariseCrossValidation(run.predictorType, folds) : undefined;
}

/** The few numbers worth a glance: accuracy and macro F1, or the regression errors. */
export function headlineOf(metrics: EvaluationMetrics): Record<string, number> {
  return 'accuracy' in metrics
    ? { accuracy: metrics.accuracy, macroF1: metrics.macroF1 }
    : { mse: metrics.mse, rmse: metrics.rmse, r2: metrics.r2 };
}

export interface EvaluationFacts {
  run: Pick<RunConfig, 'runId' | 'predictorType' | 'names' | 'evaluation'>;
  manifest: Pick<Manifest, 'source' | 'classes'>;
  testRows: number;
  invocations: number;
  metrics: EvaluationMetrics;
  gate: GateResult;
  crossValidation: CrossValidationSummary | undefined;
  judgement: ChampionJudgement;
  training: TrainingSummary | undefined;
  evaluatedAt: string;
}

/** metrics.json, field for field as the report and the notifications read it. */
export function metricsRecord(facts: EvaluationFacts): Metrics {
  const { run, manifest, judgement } = facts;
  return {
    runId: run.runId,
    predictorType: run.predictorType,
    dataset: manifest.source,
    // The endpoint scored; a batch transform has none, its job is named instead.
    endpoint: run.evaluation.mode === 'batchTransform' ? null : run.names.endpoint,
    evaluationMode: run.evaluation.mode,
    ...(run.evaluation.mode === 'batchTransform' ? { transformJob: run.names.transformJob } : {}),
    testRows: facts.testRows,
    invocations: facts.invocations,
    classes: manifest.classes,
    metrics: facts.metrics,
    gate: facts.gate,
    crossValidation: facts.crossValidation ?? null,
    promotion: judgement.promotion,
    championMetrics: judgement.championMetrics ?? null,
    training: facts.training ?? null,
    evaluatedAt: facts.evaluatedAt,
  };
}

/** What Evaluate hands to the state machine: the gate and promotion decide the next states. */
export function evaluationResult(facts: EvaluationFacts, uris: { metricsUri: string; predictionsUri: string }) {
  const folds = facts.crossValidation;
  return {
    testRows: facts.testRows,
    invocations: facts.invocations,
    headline: headlineOf(facts.metrics),
    gate: facts.gate,
    promotion: facts.judgement.promotion,
    ...(folds
      ? {
          crossValidation: {
            folds: folds.folds,
            metrics: folds.metrics,
            highSpread: folds.highSpread,
            message: folds.message,
          },
        }
      : {}),
    ...uris,
  };
}
