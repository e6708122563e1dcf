import type { Manifest } from '../src/artifacts';
import { getObjectJson, getObjectText, putJson, putObject } from '../src/aws/objects';
import { describeEndpoint, invokeEndpoint } from '../src/aws/sagemaker';
import { mapWithConcurrency } from '../src/domain/concurrency';
import type { CrossValidationSummary, FoldResult } from '../src/domain/crossValidation';
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
import {
  canMeasureChampion,
  crossValidationSummary,
  evaluationResult,
  judgeChampion,
  metricsRecord,
  metricsRecordOf,
  needsChampion,
  type EvaluationFacts,
  type TrainingSummary,
} from '../src/domain/evaluationRecord';
import { s3Uri } from '../src/domain/naming';
import type { Promotion } from '../src/domain/promotion';
import type { RunConfig } from '../src/domain/runConfig';
import { lambdaHandler } from '../src/lambda/handler';
import { logger } from '../src/log/logger';

export interface EvaluateEvent {
  run: RunConfig;
  training?: TrainingSummary;
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

export const handler = lambdaHandler(
  async ({ run, training, crossValidation }: EvaluateEvent): Promise<EvaluateResult> => {
    logger.appendKeys({ runId: run.runId });
    const [testText, manifest] = await Promise.all([
      getObjectText({ bucket: run.bucket, key: run.keys.testChannel }),
      getObjectJson<Manifest>({ bucket: run.bucket, key: run.keys.manifest }),
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
    const gate = checkQualityGate(run.qualityGate, metricsRecordOf(metrics));

    // Serving mode: a fresh evaluation of the model behind the stable endpoint on the same test rows.
    const stable = needsChampion(run, gate) ? await describeEndpoint(run.serve.endpointName) : undefined;
    const championPredicted = canMeasureChampion(stable) ? await predictWith(run.serve.endpointName) : undefined;
    const judgement = judgeChampion(
      run,
      gate,
      { labels: test.labels, classes: manifest.classes },
      stable,
      championPredicted,
    );
    const folds = crossValidationSummary(run, crossValidation);
    if (folds) logger.info(folds.message, { highSpread: folds.highSpread });

    const facts: EvaluationFacts = {
      run,
      manifest,
      testRows: test.labels.length,
      invocations: batches.length,
      metrics,
      gate,
      crossValidation: folds,
      judgement,
      training,
      evaluatedAt: new Date().toISOString(),
    };
    await Promise.all([
      putJson({ bucket: run.bucket, key: run.keys.metrics }, metricsRecord(facts)),
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
    const result = evaluationResult(facts, {
      metricsUri: s3Uri(run.bucket, run.keys.metrics),
      predictionsUri: s3Uri(run.bucket, run.keys.predictions),
    });
    logger.info('Evaluated endpoint', {
      testRows: result.testRows,
      invocations: result.invocations,
      ...result.headline,
      gatePassed: gate.passed,
      promotion: judgement.promotion.decision,
    });
    return result;
  },
);
