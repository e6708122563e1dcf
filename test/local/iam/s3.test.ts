import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Authorizer } from '../../../local/iam/authorizer';
import { credentialsFor, principal, type PrincipalId } from '../../../local/iam/principals';
import { loadPolicies } from '../../../local/iam/template';
import { startLocalS3, type LocalS3 } from '../../../local/s3';

const BUCKET = 'knn-pipeline-local-data';

describe('local S3 with IAM enforcement', () => {
  let directory: string;
  let s3: LocalS3;
  let authorizer: Authorizer;
  const clients: S3Client[] = [];

  const client = (id: PrincipalId) => {
    const created = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: credentialsFor(id),
      maxAttempts: 1,
    });
    clients.push(created);
    return created;
  };

  async function denied(promise: Promise<unknown>): Promise<S3ServiceException> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(S3ServiceException);
    return error as S3ServiceException;
  }

  beforeAll(async () => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'iam-s3-'));
    authorizer = new Authorizer(await loadPolicies());
    s3 = await startLocalS3({ directory, buckets: [BUCKET], authorizer });
    await client('user').send(new PutObjectCommand({ Bucket: BUCKET, Key: 'raw/iris.csv', Body: 'a,b\n1,2\n' }));
    await client('user').send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/x/cv/fold-1/train/train.csv', Body: '1,2\n' }),
    );
    await client('user').send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/x/input/train/train.csv', Body: '1,2\n' }),
    );
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await s3?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('lets the SageMaker role read input/ channels and answers AccessDenied with AWS’s message for cv/ folds', async () => {
    const sageMaker = client('sageMaker');
    const ok = await sageMaker.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/x/input/train/train.csv' }));
    expect(await ok.Body!.transformToString()).toBe('1,2\n');
    const error = await denied(
      sageMaker.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/x/cv/fold-1/train/train.csv' })),
    );
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/${principal('sageMaker').roleName}/SageMaker is not authorized to ` +
        `perform: s3:GetObject on resource: "arn:aws:s3:::${BUCKET}/runs/x/cv/fold-1/train/train.csv" because no ` +
        'identity-based policy allows the s3:GetObject action',
    );
    expect(authorizer.denials.at(-1)).toMatchObject({ principal: 'sageMaker', action: 's3:GetObject' });
  });

  it('denies prepare a PutObject under raw/ (bucket policy) and lets it write runs/', async () => {
    const prepare = client('function:prepare');
    await prepare.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/r/claim.json', Body: '{}' }));
    const error = await denied(prepare.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'raw/iris.csv', Body: 'x' })));
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toMatch(/explicit deny in a resource-based policy/);
    const raw = await client('user').send(new GetObjectCommand({ Bucket: BUCKET, Key: 'raw/iris.csv' }));
    expect(await raw.Body!.transformToString()).toBe('a,b\n1,2\n'); // untouched
  });

  it('answers 404 for a missing key with s3:ListBucket, 403 without it', async () => {
    const prepareMissing = await denied(
      client('function:prepare').send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/r/missing.json' })),
    );
    expect(prepareMissing.$metadata.httpStatusCode).toBe(404);
    // evaluate reads runs/ but has no ListBucket.
    const evaluateMissing = await denied(
      client('function:evaluate').send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/r/missing.json' })),
    );
    expect(evaluateMissing.$metadata.httpStatusCode).toBe(403);
    expect(evaluateMissing.name).toBe('AccessDenied');
    expect(evaluateMissing.message).toMatch(/s3:ListBucket on resource: "arn:aws:s3:::knn-pipeline-local-data"/);
  });

  it('checks ListObjectsV2 as s3:ListBucket with s3:prefix', async () => {
    const sageMaker = client('sageMaker');
    const listed = await sageMaker.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'runs/x/input/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['runs/x/input/train/train.csv']);
    const error = await denied(sageMaker.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'raw/' })));
    expect(error.name).toBe('AccessDenied');
  });

  it('checks both sides of CopyObject and DeleteObject', async () => {
    const error = await denied(
      client('function:upload').send(
        new CopyObjectCommand({ Bucket: BUCKET, Key: 'runs/x/copy.csv', CopySource: `${BUCKET}/raw/iris.csv` }),
      ),
    );
    expect(error.message).toMatch(/s3:GetObject on resource: "arn:aws:s3:::knn-pipeline-local-data\/raw\/iris.csv"/);
    await client('user').send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'runs/x/copy.csv', CopySource: `${BUCKET}/raw/iris.csv` }),
    );
    const del = await denied(
      client('function:evaluate').send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'runs/x/copy.csv' })),
    );
    expect(del.message).toMatch(/s3:DeleteObject/);
  });

  it('resolves the principal of a presigned URL from X-Amz-Credential', async () => {
    // The query-string form of SigV4 (the local S3 does not verify signatures, only whose key signed).
    const presigned = (id: PrincipalId, key: string) => {
      const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
      const query = new URLSearchParams({
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': `${credentialsFor(id).accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
        'X-Amz-Date': date,
        'X-Amz-Expires': '900',
        'X-Amz-SignedHeaders': 'host',
        'X-Amz-Signature': '0'.repeat(64),
      });
      return `${s3.endpoint}/${BUCKET}/${key}?${query.toString()}`;
    };
    expect((await fetch(presigned('sageMaker', 'runs/x/input/train/train.csv'))).status).toBe(200);
    const response = await fetch(presigned('function:split', 'raw/iris.csv'));
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/<Code>AccessDenied<\/Code>/);
  });

  it('refuses unsigned requests and keys the local cloud never issued', async () => {
    expect((await fetch(`${s3.endpoint}/${BUCKET}/raw/iris.csv`)).status).toBe(403);
    const stranger = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    clients.push(stranger);
    const error = await denied(stranger.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'raw/iris.csv' })));
    expect(error.name).toBe('InvalidAccessKeyId');
  });
});
