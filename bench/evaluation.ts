/**
 * Evaluation of a large test set through the local endpoint, the way functions/evaluate.ts does it: a real local
 * training job on synthetic data, a deployed endpoint, then the test channel read from S3, parsed, cut into
 * InvokeEndpoint requests by planBatches, sent 4 at a time, and scored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { LOCAL, LocalCloud } from '../local/cloud';
import { knnTrainingJobRequest, pollUntil } from '../local/sagemaker/testkit';
import { getObjectText, putObject } from '../src/aws/objects';
import { invokeEndpoint } from '../src/aws/sagemaker';
import { mapWithConcurrency } from '../src/domain/concurrency';
import {
  MAX_CONCURRENT_INVOCATIONS,
  computeMetrics,
  parsePredictions,
  parseTestChannel,
  planBatches,
} from '../src/domain/evaluation';
import { clusteredCsv } from './data';

export interface EvaluationBenchResult {
  trainRows: number;
  sampleSize: number;
  testRows: number;
  featureDim: number;
  k: number;
  classes: number;
  trainingJobMs: number;
  deployMs: number;
  invocations: number;
  /** Each InvokeEndpoint call's round trip (ms), in batch order. */
  invocationMs: number[];
  /** The evaluate handler's work, phase by phase (ms). */
  readTestChannelMs: number;
  parseMs: number;
  planBatchesMs: number;
  invokeMs: number;
  scoreMs: number;
  totalMs: number;
  accuracy: number;
}

// Cluster spread for which a k-NN with 10,000 sampled points scores about 0.95: a task neither trivial nor hopeless.
const CLUSTER_SPREAD = 3;

export async function benchEvaluation(options: {
  rows: number;
  sampleSize: number;
  featureDim: number;
  classes: number;
  k: number;
}): Promise<EvaluationBenchResult> {
  const { rows, sampleSize, featureDim, classes, k } = options;
  const directory = mkdtempSync(path.join(tmpdir(), 'knn-bench-eval-'));
  const cloud = await LocalCloud.start({ directory, s3Trigger: false });
  const sageMaker = cloud.sageMakerClient;
  const bucket = LOCAL.bucket;
  const name = 'knnp-local-bench-eval';
  try {
    await putObject(
      { bucket, key: 'bench/train/train.csv' },
      clusteredCsv(rows, featureDim, classes, CLUSTER_SPREAD, 1, 2),
      'text/csv',
    );
    await putObject(
      { bucket, key: 'bench/test/test.csv' },
      clusteredCsv(rows, featureDim, classes, CLUSTER_SPREAD, 1, 3),
      'text/csv',
    );

    const trainingStart = performance.now();
    await sageMaker.send(
      new CreateTrainingJobCommand(
        knnTrainingJobRequest({
          name,
          bucket,
          trainPrefix: 'bench/train/',
          outputPath: `s3://${bucket}/bench/output`,
          hyperParameters: {
            feature_dim: String(featureDim),
            k: String(k),
            predictor_type: 'classifier',
            sample_size: String(sampleSize),
          },
        }),
      ),
    );
    const job = await pollUntil(
      () => sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name })),
      (described) => described.TrainingJobStatus ?? '',
      (described) => described.TrainingJobStatus === 'Completed' || described.TrainingJobStatus === 'Failed',
      { intervalMs: 20, timeoutMs: 600_000 },
    );
    if (job.final.TrainingJobStatus !== 'Completed') throw new Error(`training job failed: ${job.final.FailureReason}`);
    const trainingJobMs = performance.now() - trainingStart;

    const deployStart = performance.now();
    await sageMaker.send(
      new CreateModelCommand({
        ModelName: name,
        ExecutionRoleArn: `arn:aws:iam::${LOCAL.account}:role/knn-bench`,
        PrimaryContainer: {
          Image: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1',
          ModelDataUrl: job.final.ModelArtifacts!.S3ModelArtifacts,
        },
      }),
    );
    await sageMaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: name,
        ProductionVariants: [
          { VariantName: 'AllTraffic', ModelName: name, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' },
        ],
      }),
    );
    await sageMaker.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }));
    await pollUntil(
      () => sageMaker.send(new DescribeEndpointCommand({ EndpointName: name })),
      (described) => described.EndpointStatus ?? '',
      (described) => described.EndpointStatus === 'InService' || described.EndpointStatus === 'Failed',
      { intervalMs: 20, timeoutMs: 60_000 },
    );
    const deployMs = performance.now() - deployStart;

    // The evaluate handler's steps, timed one by one.
    const start = performance.now();
    const testText = await getObjectText({ bucket, key: 'bench/test/test.csv' });
    const read = performance.now();
    const test = parseTestChannel(testText, 'test channel');
    const parsed = performance.now();
    const batches = planBatches(test.featureLines);
    const planned = performance.now();
    const invocationMs: number[] = [];
    const answers = await mapWithConcurrency(batches, MAX_CONCURRENT_INVOCATIONS, async (batch) => {
      const sent = performance.now();
      const body = await invokeEndpoint(name, batch.body, 'text/csv', 'application/json');
      invocationMs[batches.indexOf(batch)] = performance.now() - sent;
      return parsePredictions(body, batch.rowCount);
    });
    const invoked = performance.now();
    const metrics = computeMetrics('classifier', test.labels, answers.flat(), null);
    const scored = performance.now();

    await sageMaker.send(new DeleteEndpointCommand({ EndpointName: name }));
    await sageMaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name }));
    await sageMaker.send(new DeleteModelCommand({ ModelName: name }));
    return {
      trainRows: rows,
      sampleSize,
      testRows: test.labels.length,
      featureDim,
      k,
      classes,
      trainingJobMs,
      deployMs,
      invocations: batches.length,
      invocationMs,
      readTestChannelMs: read - start,
      parseMs: parsed - read,
      planBatchesMs: planned - parsed,
      invokeMs: invoked - planned,
      scoreMs: scored - invoked,
      totalMs: scored - start,
      accuracy: 'accuracy' in metrics ? metrics.accuracy : NaN,
    };
  } finally {
    await cloud.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
