/**
 * The IAM authorisation of an S3 REST request (path-style, as the local S3 serves it): which actions on which
 * resources it needs, with the request's condition keys. Mirrors the S3 "Actions, resources, and condition keys" of
 * the Service Authorization Reference for the operations the SDK sends.
 */

export interface S3Check {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

export interface S3RequestShape {
  method: string;
  /** The decoded path: /bucket or /bucket/key. */
  path: string;
  query: Record<string, unknown>;
  /** Lower-case header lookup. */
  header(name: string): string | undefined;
}

export interface S3Authorization {
  bucket?: string;
  key?: string;
  /** Every check must pass (CopyObject: PutObject on the target and GetObject on the source). */
  checks: S3Check[];
  /** A GET/HEAD of an object: S3 answers 403 instead of 404 for a missing key unless the caller may s3:ListBucket. */
  objectRead: boolean;
}

const BUCKET_SUBRESOURCES: Record<string, Partial<Record<string, string>>> = {
  versioning: { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' },
  location: { GET: 'GetBucketLocation' },
  policy: { GET: 'GetBucketPolicy', PUT: 'PutBucketPolicy', DELETE: 'DeleteBucketPolicy' },
  cors: { GET: 'GetBucketCORS', PUT: 'PutBucketCORS', DELETE: 'PutBucketCORS' },
  website: { GET: 'GetBucketWebsite', PUT: 'PutBucketWebsite', DELETE: 'DeleteBucketWebsite' },
  acl: { GET: 'GetBucketAcl', PUT: 'PutBucketAcl' },
  tagging: { GET: 'GetBucketTagging', PUT: 'PutBucketTagging', DELETE: 'PutBucketTagging' },
  lifecycle: {
    GET: 'GetLifecycleConfiguration',
    PUT: 'PutLifecycleConfiguration',
    DELETE: 'PutLifecycleConfiguration',
  },
  notification: { GET: 'GetBucketNotification', PUT: 'PutBucketNotification' },
  encryption: { GET: 'GetEncryptionConfiguration', PUT: 'PutEncryptionConfiguration' },
  uploads: { GET: 'ListBucketMultipartUploads' },
  versions: { GET: 'ListBucketVersions' },
};

const OBJECT_SUBRESOURCES: Record<string, Partial<Record<string, string>>> = {
  acl: { GET: 'GetObjectAcl', PUT: 'PutObjectAcl' },
  tagging: { GET: 'GetObjectTagging', PUT: 'PutObjectTagging', DELETE: 'DeleteObjectTagging' },
};

function has(query: Record<string, unknown>, name: string): boolean {
  return query[name] !== undefined;
}

/** arn:aws:s3:::bucket/key of `x-amz-copy-source` (bucket/key, URL-encoded, optional ?versionId=). */
function copySource(value: string): { arn: string; versioned: boolean } {
  const [pathPart, query = ''] = value.split('?');
  const decoded = decodeURIComponent(pathPart.replace(/^\//, ''));
  return { arn: `arn:aws:s3:::${decoded}`, versioned: new URLSearchParams(query).has('versionId') };
}

/** What a request needs; undefined when it is not an S3 operation the local cloud authorises (then denied). */
export function s3Authorization(request: S3RequestShape): S3Authorization | undefined {
  const [bucket, ...keyParts] = request.path.replace(/^\//, '').split('/');
  const key = keyParts.join('/');
  const method = request.method.toUpperCase();
  const { query } = request;
  if (!bucket)
    return method === 'GET'
      ? { checks: [{ action: 's3:ListAllMyBuckets', resource: '*' }], objectRead: false }
      : undefined;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const bucketCheck = (action: string, context?: Record<string, string>): S3Authorization => ({
    bucket,
    checks: [{ action: `s3:${action}`, resource: bucketArn, ...(context ? { context } : {}) }],
    objectRead: false,
  });
  if (keyParts.length === 0 || key === '') {
    for (const [name, actions] of Object.entries(BUCKET_SUBRESOURCES)) {
      if (has(query, name)) {
        const action = actions[method];
        return action ? bucketCheck(action) : undefined;
      }
    }
    if (method === 'GET' || method === 'HEAD') {
      // ListObjects / ListObjectsV2 carry the listed prefix as s3:prefix (absent when not given); HeadBucket is
      // authorised as ListBucket.
      const prefix = typeof query.prefix === 'string' && method === 'GET' ? { 's3:prefix': query.prefix } : undefined;
      return bucketCheck('ListBucket', prefix);
    }
    if (method === 'PUT') return bucketCheck('CreateBucket');
    if (method === 'DELETE') return bucketCheck('DeleteBucket');
    // POST ?delete (DeleteObjects) is authorised per key by S3; the local cloud's callers do not use it.
    return undefined;
  }
  const objectArn = `${bucketArn}/${key}`;
  const object = (action: string, extra: S3Check[] = [], objectRead = false): S3Authorization => ({
    bucket,
    key,
    checks: [{ action: `s3:${action}`, resource: objectArn }, ...extra],
    objectRead,
  });
  for (const [name, actions] of Object.entries(OBJECT_SUBRESOURCES)) {
    if (has(query, name)) {
      const action = actions[method];
      return action ? object(action) : undefined;
    }
  }
  const versioned = has(query, 'versionId');
  switch (method) {
    case 'GET':
      if (has(query, 'uploadId')) return object('ListMultipartUploadParts');
      return object(versioned ? 'GetObjectVersion' : 'GetObject', [], true);
    case 'HEAD':
      return object(versioned ? 'GetObjectVersion' : 'GetObject', [], true);
    case 'PUT': {
      // PutObject, UploadPart, and their copy forms (CopyObject, UploadPartCopy) which also read the source.
      const source = request.header('x-amz-copy-source');
      if (!source) return object('PutObject');
      const { arn, versioned: sourceVersioned } = copySource(source);
      return object('PutObject', [{ action: sourceVersioned ? 's3:GetObjectVersion' : 's3:GetObject', resource: arn }]);
    }
    case 'POST':
      // CreateMultipartUpload (?uploads) and CompleteMultipartUpload (?uploadId) are PutObject.
      return has(query, 'uploads') || has(query, 'uploadId') ? object('PutObject') : undefined;
    case 'DELETE':
      if (has(query, 'uploadId')) return object('AbortMultipartUpload');
      return object(versioned ? 'DeleteObjectVersion' : 'DeleteObject');
    default:
      return undefined;
  }
}
