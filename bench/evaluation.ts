/**
 * Evaluation of a large test set through the local endpoint, the way functions/evaluate.ts does it: a real local
 * training job on synthetic data, a deployed endpoint, then the test channel read from S3, parsed, cut into
 * InvokeEndpoint requests as it streams (testBatches), sent 4 at a time, and scored as it goes (evaluateBatches).
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
import { objectChunks, putObject } from '../src/aws/objects';
import { invokeEndpoint } from '../src/aws/sagemaker';
import {
  ENDPOINT_BATCH_LIMITS,
  MAX_CONCURRENT_INVOCATIONS,
  evaluateBatches,
  parsePredictions,
  scoreBatches,
  testBatches,
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
  /** The evaluate handler's streaming pass (read, batch, invoke, score), start to end (ms). */
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
  // IAM off: the bench plays the state machine, the evaluate function and cleanup at once, as one caller.
  const cloud = await LocalCloud.start({ directory, s3Trigger: false, iam: false });
  const sageMaker = cloud.sageMakerClient;
  const bucket = LOCAL.bucket;
  const name = 'knnp-local-bench-eval';
  const root = 'bench';
  try {
    await putObject(
      { bucket, key: `${root}/input/train/train.csv` },
      clusteredCsv(rows, featureDim, classes, CLUSTER_SPREAD, 1, 2),
      'text/csv',
    );
    await putObject(
      { bucket, key: `${root}/input/test/test.csv` },
      clusteredCsv(rows, featureDim, classes, CLUSTER_SPREAD, 1, 3),
      'text/csv',
    );

    const trainingStart = performance.now();
    await sageMaker.send(
      new CreateTrainingJobCommand(
        knnTrainingJobRequest({
          name,
          bucket,
          trainPrefix: `${root}/input/train/`,
          outputPath: `s3://${bucket}/${root}/output`,
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

    // The evaluate handler's pass: the test channel streamed in request-sized batches, 4 in flight, scored as it goes.
    const start = performance.now();
    const invocationMs: number[] = [];
    const pass = await evaluateBatches(
      scoreBatches(
        testBatches(
          objectChunks({ bucket, key: `${root}/input/test/test.csv` }),
          'test channel',
          ENDPOINT_BATCH_LIMITS,
        ),
        MAX_CONCURRENT_INVOCATIONS,
        async (batch) => {
          const sent = performance.now();
          const body = await invokeEndpoint(name, batch.body, 'text/csv', 'application/json');
          invocationMs.push(performance.now() - sent);
          return parsePredictions(body, batch.rowCount);
        },
      ),
      { predictorType: 'classifier', classes: null, featureNames: [] },
    );
    const end = performance.now();

    await sageMaker.send(new DeleteEndpointCommand({ EndpointName: name }));
    await sageMaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name }));
    await sageMaker.send(new DeleteModelCommand({ ModelName: name }));
    return {
      trainRows: rows,
      sampleSize,
      testRows: pass.rows,
      featureDim,
      k,
      classes,
      trainingJobMs,
      deployMs,
      invocations: pass.batches,
      invocationMs,
      totalMs: end - start,
      accuracy: 'accuracy' in pass.metrics ? pass.metrics.accuracy : NaN,
    };
  } finally {
    await cloud.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
