import type { FeatureTransform, Manifest } from '../src/artifacts';
import { runFeatures } from '../src/aws/runFeatures';
import { featureLineTransformer } from '../src/features';
import { ObjectWriter } from '../src/aws/objectWriter';
import { getObjectJson, objectChunks, putJson, type ObjectRef } from '../src/aws/objects';
import { describeEndpoint, invokeEndpoint } from '../src/aws/sagemaker';
import type { CrossValidationSummary, FoldResult } from '../src/domain/crossValidation';
import {
  ENDPOINT_BATCH_LIMITS,
  MAX_CONCURRENT_INVOCATIONS,
  checkQualityGate,
  evaluateBatches,
  invocationPlan,
  parsePredictions,
  scoreBatches,
  testBatches,
  transformedBatchLimits,
  transformedBatches,
  transformOutputBatches,
  type BatchLimits,
  type EvaluationPass,
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
import { prefixOfServingEndpoint, runIdOfServingConfig, s3Uri, siblingRunLayout } from '../src/domain/naming';
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

/**
 * Scores the run's model on the test channel, streamed in batches (never the whole channel in memory): through its
 * endpoint (real-time or serverless), or from its batch transform output read in lockstep with the channel. Metrics
 * accumulate as the batches come and predictions.csv is written as a stream; in serving mode the champion behind
 * the stable endpoint is scored on the same rows, in a second pass.
 */
export const handler = lambdaHandler(
  async ({ run, training, crossValidation }: EvaluateEvent): Promise<EvaluateResult> => {
    logger.appendKeys({ runId: run.runId, evaluationMode: run.evaluation.mode });
    const manifest = await getObjectJson<Manifest>({ bucket: run.bucket, key: run.keys.manifest });
    // With a feature transform the test channel holds transformed rows; the held-out rows as prepared are read instead,
    // transformed for each model as it expects them, and listed raw in predictions.csv.
    const transform = manifest.features?.transformed
      ? await getObjectJson<FeatureTransform>({ bucket: run.bucket, key: run.keys.transform })
      : null;
    const testKey = transform ? run.keys.rawTestRows : run.keys.testChannel;
    const test: ObjectRef = { bucket: run.bucket, key: testKey };
    const testSource = s3Uri(run.bucket, testKey);
    const scoring = {
      predictorType: run.predictorType,
      classes: manifest.classes,
      featureNames: manifest.featureNames,
    };

    /** One pass over the test channel through an endpoint, `concurrency` requests of at most `limits` at a time. */
    const endpointPass = (
      endpointName: string,
      plan: { limits: BatchLimits; concurrency: number },
      modelTransform: FeatureTransform | null | undefined,
      write?: (text: string) => Promise<void>,
    ): Promise<EvaluationPass> => {
      const batches = modelTransform
        ? transformedBatches(
            testBatches(
              objectChunks(test),
              testSource,
              transformedBatchLimits(plan.limits, modelTransform.outputFeatures.length),
            ),
            featureLineTransformer(modelTransform),
          )
        : testBatches(objectChunks(test), testSource, plan.limits);
      return evaluateBatches(
        scoreBatches(batches, plan.concurrency, async (batch) =>
          parsePredictions(
            await invokeEndpoint(endpointName, batch.body, 'text/csv', 'application/json'),
            batch.rowCount,
          ),
        ),
        { ...scoring, write },
      );
    };

    const predictions = new ObjectWriter(
      { bucket: run.bucket, key: run.keys.predictions },
      { contentType: 'text/csv' },
    );
    try {
      const write = (text: string) => predictions.write(text);
      const candidate =
        run.evaluation.mode === 'batchTransform'
          ? await evaluateBatches(
              transformOutputBatches(
                objectChunks(test),
                objectChunks({ bucket: run.bucket, key: run.keys.transformResult }),
                { test: testSource, output: s3Uri(run.bucket, run.keys.transformResult) },
              ),
              { ...scoring, write },
            )
          : await endpointPass(run.names.endpoint, invocationPlan(run.evaluation), transform, write);
      const gate = checkQualityGate(run.qualityGate, metricsRecordOf(candidate.metrics));

      // Serving mode: a fresh evaluation of the model behind the stable endpoint on the same test rows. The stable
      // endpoint is always instance-based and already running, so it is invoked in batches in every evaluation
      // mode (a batch transform of the champion would start instances for minutes, for what the endpoint answers).
      // The champion is sent the same raw rows through its own recorded transform (docs/feature-transform.md).
      const stable = needsChampion(run, gate) ? await describeEndpoint(run.serve.endpointName) : undefined;
      const championRun =
        canMeasureChampion(stable) && stable?.configName
          ? runIdOfServingConfig(stable.configName, prefixOfServingEndpoint(run.serve.endpointName))
          : undefined;
      const championFeatures =
        championRun === undefined
          ? undefined
          : await runFeatures(run.bucket, championRun, siblingRunLayout(run.keys, run.runId, championRun));
      const incomparable =
        championFeatures && championFeatures.featureNames.join(',') !== manifest.featureNames.join(',')
          ? `the current model (run ${championFeatures.runId}) was trained on the feature columns ${championFeatures.featureNames.join(', ')}, this one on ${manifest.featureNames.join(', ')}`
          : undefined;
      const champion =
        canMeasureChampion(stable) && incomparable === undefined
          ? await endpointPass(
              run.serve.endpointName,
              { limits: ENDPOINT_BATCH_LIMITS, concurrency: MAX_CONCURRENT_INVOCATIONS },
              championFeatures?.transform,
            )
          : undefined;
      const judgement = judgeChampion(run, gate, stable, champion?.metrics, incomparable);
      const folds = crossValidationSummary(run, crossValidation);
      if (folds) logger.info(folds.message, { highSpread: folds.highSpread });

      const facts: EvaluationFacts = {
        run,
        manifest,
        testRows: candidate.rows,
        // InvokeEndpoint calls for this run's model; a batch transform scored it without any.
        invocations: run.evaluation.mode === 'batchTransform' ? 0 : candidate.batches,
        metrics: candidate.metrics,
        gate,
        crossValidation: folds,
        judgement,
        training,
        evaluatedAt: new Date().toISOString(),
      };
      // predictions.csv first: a metrics.json always has its validation table next to it.
      await predictions.close();
      await putJson({ bucket: run.bucket, key: run.keys.metrics }, metricsRecord(facts));
      const result = evaluationResult(facts, {
        metricsUri: s3Uri(run.bucket, run.keys.metrics),
        predictionsUri: s3Uri(run.bucket, run.keys.predictions),
      });
      logger.info('Evaluated the model', {
        testRows: result.testRows,
        invocations: result.invocations,
        ...result.headline,
        gatePassed: gate.passed,
        promotion: judgement.promotion.decision,
      });
      return result;
    } catch (error) {
      // Nothing half-written: the multipart upload of predictions.csv is aborted.
      await predictions.abort();
      throw error;
    }
  },
);
