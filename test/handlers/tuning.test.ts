import { mockClient } from 'aws-sdk-client-mock';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListTrainingJobsForHyperParameterTuningJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { handler, type RecordTuningEvent } from '../../functions/tuning';
import { parseArtifact } from '../../src/artifacts';
import { resetClients } from '../../src/aws/clients';
import { handlerEvent, putInputs, setStageEnv } from '../support/lambda';

const s3 = mockClient(S3Client);
const sagemaker = mockClient(SageMakerClient);
let event: RecordTuningEvent;

const summary = (n: number, k: string, value?: number, status = 'Completed') => ({
  TrainingJobName: `knnp-dev--iris-split-00-77043e93-00${n}-0a1b2c3${n}`,
  TrainingJobArn: 'arn',
  CreationTime: new Date(0),
  TrainingJobStatus: status as 'Completed',
  TunedHyperParameters: { k },
  ...(value === undefined
    ? {}
    : {
        FinalHyperParameterTuningJobObjectiveMetric: {
          Type: 'Maximize' as const,
          MetricName: 'test:accuracy',
          Value: value,
        },
      }),
});

beforeEach(() => {
  s3.reset();
  sagemaker.reset();
  resetClients();
  setStageEnv();
  const base = handlerEvent<{ run: RecordTuningEvent['run'] }>('split');
  base.run.tuning = {
    enabled: true,
    strategy: 'Grid',
    ranges: { k: { values: [1, 3, 5, 7] } },
    jobCount: 4,
    maxParallelJobs: 2,
    maxRuntimeInSeconds: 3600,
    validationFraction: 0.2,
    objective: { type: 'Maximize', metricName: 'test:accuracy' },
  };
  event = {
    run: base.run,
    tuningJobName: base.run.names.tuningJob,
    bestTrainingJobName: summary(3, '5').TrainingJobName,
  };
  s3.on(PutObjectCommand).resolves({});
});

test('lists every trial (all pages), records trials.json, and returns the chosen hyperparameters merged', async () => {
  sagemaker
    .on(ListTrainingJobsForHyperParameterTuningJobCommand)
    .resolvesOnce({ TrainingJobSummaries: [summary(1, '1', 0.9), summary(2, '3', 0.95)], NextToken: 'page-2' })
    .resolvesOnce({ TrainingJobSummaries: [summary(3, '5', 0.95), summary(4, '7', undefined, 'Failed')] });

  const result = await handler(event);

  expect(sagemaker.commandCalls(ListTrainingJobsForHyperParameterTuningJobCommand).map((c) => c.args[0].input)).toEqual(
    [
      { HyperParameterTuningJobName: event.tuningJobName, MaxResults: 100, SortBy: 'Name', SortOrder: 'Ascending' },
      {
        HyperParameterTuningJobName: event.tuningJobName,
        MaxResults: 100,
        SortBy: 'Name',
        SortOrder: 'Ascending',
        NextToken: 'page-2',
      },
    ],
  );
  // SageMaker named k=5 best; the tie with k=3 goes to the smallest k.
  expect(result.chosen).toEqual({
    trainingJobName: summary(2, '3').TrainingJobName,
    hyperParameters: { k: '3' },
    objective: 0.95,
  });
  expect(result.hyperParameters).toEqual({ ...(event.run.requests!.trainingJob.HyperParameters as object), k: '3' });
  const [put] = putInputs(s3);
  expect(put.Key).toBe('runs/iris-split-0001/tuning/trials.json');
  const trials = parseArtifact('trials', JSON.parse(String(put.Body)), put.Key!);
  expect(trials.trials.map((t) => [t.hyperParameters.k, t.objective, t.chosen])).toEqual([
    ['1', 0.9, false],
    ['3', 0.95, true],
    ['5', 0.95, false],
    ['7', undefined, false],
  ]);
  expect(trials.sageMakerBestTrainingJob).toBe(summary(3, '5').TrainingJobName);
  expect(result.trialsUri).toBe('s3://knn-pipeline-dev-data/runs/iris-split-0001/tuning/trials.json');
});

test('no trial with an objective fails the run with the metric named, and writes nothing', async () => {
  sagemaker.on(ListTrainingJobsForHyperParameterTuningJobCommand).resolves({
    TrainingJobSummaries: [summary(1, '1', undefined, 'Failed')],
  });
  await expect(handler(event)).rejects.toMatchObject({
    name: 'TuningFailedError',
    message: expect.stringMatching(/test:accuracy/),
  });
  expect(putInputs(s3)).toHaveLength(0);
});
