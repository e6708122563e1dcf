/** The whole local cloud with IAM enforced: every principal acts with its own credentials against the template. */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { credentialsFor } from '../../../local/iam/principals';
import { startCloud, useEmulators } from '../../support/emulators';
import { IRIS, putRaw, stateOutput } from '../../support/localCloud';

const local = useEmulators(() => startCloud({ s3Trigger: false, iam: true }));
beforeAll(() => putRaw('raw/iris.csv', IRIS));

test('a cross-validated serving run succeeds with every request authorised, the janitor’s notification included', async () => {
  const record = await local.cloud.startExecution({
    dataset: { key: 'raw/iris.csv' },
    crossValidation: { folds: 3 },
    serve: true,
  }).done;
  expect(record.status).toBe('SUCCEEDED');
  expect(stateOutput<{ evaluation: { headline: { accuracy: number } } }>(record, 'Evaluate')).toMatchObject({
    evaluation: {
      headline: { accuracy: 0.9736842105263158 },
      crossValidation: { folds: 3 },
      promotion: { decision: 'create' },
    },
  });
  expect(local.cloud.denials).toEqual([]);
  // The janitor published the outcome as its own role (events:PutEvents with its source and detail-type).
  expect(
    local.cloud.eventBridge.events.filter(
      (e) => e.source === 'knn-pipeline' && (e.detail as { executionName?: string }).executionName === record.name,
    ),
  ).toHaveLength(1);
}, 120_000);

test('a principal’s own credentials reach only what its role allows', async () => {
  const s3 = new S3Client({
    endpoint: local.cloud.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: credentialsFor('function:split'),
    maxAttempts: 1,
  });
  try {
    const error = await s3
      .send(new GetObjectCommand({ Bucket: 'knn-pipeline-local-data', Key: 'raw/iris.csv' }))
      .catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'AccessDenied' });
    expect(local.cloud.denials.at(-1)).toMatchObject({ principal: 'function:split', action: 's3:GetObject' });
  } finally {
    s3.destroy();
  }
});
