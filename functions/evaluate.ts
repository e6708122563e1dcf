import { getObjectJson, getObjectText, putJson, putObject } from '../src/aws/objects';
import { describeEndpoint, invokeEndpoint } from '../src/aws/sagemaker';
import { decidePromotion, type Promotion } from '../src/domain/promotion';
import {
  MAX_CONCURRENT_INVOCATIONS,
  checkQualityGate,
  computeMetrics,
  parsePredictions,
  parseTestChannel,
  planBatches,
  predictionsCsv,
  type GateResult,
} from '../src/domain/evaluation';
import type { RunConfig } from '../src/domain/runConfig';
import { s3Uri } from '../src/domain/naming';
import { logger } from '../src/log/logger';
import { mapWithConcurrency } from '../src/domain/concurrency';
import type { DatasetManifest } from './prepare';
import { summariseCrossValidation, type CrossValidationSummary, type FoldResult } from '../src/domain/crossValidation';

export interface EvaluateEvent {
  run: RunConfig;
  training?: {
    TrainingJobName?: string;
    FinalMetricDataList?: { MetricName: string; Value: number }[];
    BillableTimeInSeconds?: number;
  };
  /** One entry per fold when cross-validation ran (the CrossValidate Map state's output), else empty. */
  crossValidation?: FoldResult[];
}

export interface EvaluateResult {
  testRows: number;
  invocations: number;
  headline: Record<string, number>;
  gate: GateResult;
  crossValidation?: Pick<CrossValidationSummary, 'folds' | 'metrics' | 'highSpread' | 'message'>;
  promotion: Promotion;
  metricsUri: string;
  predictionsUri: string;
}

export const handler = async ({ run, training, crossValidation }: EvaluateEvent): Promise<EvaluateResult> => {
  logger.appendKeys({ runId: run.runId });
  const [testText, manifest] = await Promise.all([
    getObjectText({ bucket: run.bucket, key: run.keys.testChannel }),
    getObjectJson<DatasetManifest>({ bucket: run.bucket, key: run.keys.manifest }),
  ]);
  const test = parseTestChannel(testText, s3Uri(run.bucket, run.keys.testChannel));
  const batches = planBatches(test.featureLines);
  const predictWith = async (endpointName: string) =>
    (
      await mapWithConcurrency(batches, MAX_CONCURRENT_INVOCATIONS, async (batch) =>
        parsePredictions(
          await invokeEndpoint(endpointName, batch.body, 'text/csv', 'application/json'),
          batch.rowCount,
        ),
      )
    ).flat();
  const predicted = await predictWith(run.names.endpoint);

  const metrics = computeMetrics(run.predictorType, test.labels, predicted, manifest.classes);
  const gate = checkQualityGate(run.qualityGate, metrics as unknown as Record<string, unknown>);

  // Serving mode: a fresh evaluation of the model behind the stable endpoint on the same test rows.
  const stable = run.serve.enabled && gate.passed ? await describeEndpoint(run.serve.endpointName) : undefined;
  const championMetrics =
    stable?.status === 'InService'
      ? computeMetrics(run.predictorType, test.labels, await predictWith(run.serve.endpointName), manifest.classes)
      : undefined;
  const championGate = championMetrics
    ? checkQualityGate(run.qualityGate, championMetrics as unknown as Record<string, unknown>)
    : undefined;
  const promotion = decidePromotion(
    run.serve.enabled,
    gate,
    { status: stable?.status, configName: stable?.configName, value: championGate?.value },
    run.serve.endpointName,
  );
  const folds = crossValidation?.length ? summariseCrossValidation(run.predictorType, crossValidation) : undefined;
  if (folds) logger.info(folds.message, { highSpread: folds.highSpread });
  const headline: Record<string, number> =
    'accuracy' in metrics
      ? { accuracy: metrics.accuracy, macroF1: metrics.macroF1 }
      : { mse: metrics.mse, rmse: metrics.rmse, r2: metrics.r2 };

  await Promise.all([
    putJson(
      { bucket: run.bucket, key: run.keys.metrics },
      {
        runId: run.runId,
        predictorType: run.predictorType,
        dataset: manifest.source,
        endpoint: run.names.endpoint,
        testRows: test.labels.length,
        invocations: batches.length,
        classes: manifest.classes,
        metrics,
        gate,
        crossValidation: folds ?? null,
        promotion,
        championMetrics: championMetrics ?? null,
        training: training ?? null,
        evaluatedAt: new Date().toISOString(),
      },
    ),
    putObject(
      { bucket: run.bucket, key: run.keys.predictions },
      predictionsCsv(
        run.predictorType,
        manifest.featureNames,
        test.featureLines,
        test.labels,
        predicted,
        manifest.classes,
      ),
      'text/csv',
    ),
  ]);
  logger.info('Evaluated endpoint', {
    testRows: test.labels.length,
    invocations: batches.length,
    ...headline,
    gatePassed: gate.passed,
    promotion: promotion.decision,
  });
  return {
    testRows: test.labels.length,
    invocations: batches.length,
    headline,
    gate,
    promotion,
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
    metricsUri: s3Uri(run.bucket, run.keys.metrics),
    predictionsUri: s3Uri(run.bucket, run.keys.predictions),
  };
};
