// Local S3: s3rver in-process on 127.0.0.1, silent, with an object-created hook for the local event bus.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import S3rverModule from 's3rver';
import { DUMMY_ACCOUNT as dummyAccount } from 's3rver/lib/models/account';
import S3ErrorModule from 's3rver/lib/models/error';
import type { Authorizer } from './iam/authorizer';
import { accessKeyOfRequest, allCredentials, principalForAccessKey } from './iam/principals';
import { s3Authorization } from './iam/s3Actions';

export interface LocalS3ObjectCreatedEvent {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  versionId?: string;
  sequencer: string;
}

export interface LocalS3 {
  endpoint: string;
  directory: string;
  close(): Promise<void>;
  onObjectCreated(listener: (e: LocalS3ObjectCreatedEvent) => void): void;
}

export interface LocalS3Options {
  directory: string;
  port?: number;
  buckets?: string[];
  /** Extra access keys to accept besides S3RVER/S3RVER and the ones in the environment. */
  credentials?: { accessKeyId: string; secretAccessKey: string }[];
  /** Authorise every request against the template's policies (local/iam); every request is allowed without it. */
  authorizer?: Authorizer;
}

// s3rver ships no types (local/s3rver.d.ts); these are the parts we use (see node_modules/s3rver/lib/s3rver.js).
interface S3rverRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
}
interface S3rverStore {
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  deleteObject(bucket: string, key: string): Promise<void>;
  getResourcePath(bucket: string, key: string, resource: string): string;
}
interface KoaContext {
  method: string;
  path: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  status: number;
  type: string;
  body: unknown;
  get(header: string): string;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance {
  store: S3rverStore;
  middleware: KoaMiddleware[];
  httpServer?: Server;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: { Records: S3rverRecord[] }) => void): void;
  on(event: 'error', listener: (error: unknown) => void): void;
}
interface S3rverConstructor {
  new (options: Record<string, unknown>): S3rverInstance;
}
interface S3rverAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
}

interface S3ErrorConstructor {
  new (code: string, message: string, detail?: Record<string, string>): Error & { code: string; status: number };
}

const S3rver = S3rverModule as S3rverConstructor;
const S3Error = S3ErrorModule as S3ErrorConstructor;
const DUMMY_ACCOUNT = dummyAccount as S3rverAccount;

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const directory = resolvePath(options.directory);
  mkdirSync(directory, { recursive: true });
  registerAccessKeys(options.credentials ?? []);

  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    resetOnClose: false,
    allowMismatchedSignatures: true, // s3rver cannot verify SigV4 anyway; any registered key is accepted
    vhostBuckets: false, // path-style only: 127.0.0.1 has no bucket subdomains
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
  });

  keepDirectoriesOnDelete(server.store);
  server.middleware.unshift(conditionalPutMiddleware(server.store));
  server.middleware.unshift(keyLengthMiddleware());
  // First of all: a request IAM denies never reaches the store.
  if (options.authorizer) server.middleware.unshift(authorizationMiddleware(options.authorizer));

  const listeners: ((e: LocalS3ObjectCreatedEvent) => void)[] = [];
  const nextSequencer = createSequencer();
  server.on('error', () => undefined); // request errors are answered as S3 XML errors; nothing to print
  server.on('event', (event) => {
    for (const record of event.Records) {
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      const sequencer = nextSequencer(); // taken synchronously so the order matches the write order
      void describeCreatedObject(server.store, record).then((created) => {
        for (const listener of listeners) {
          try {
            listener({ ...created, sequencer });
          } catch {
            // a faulty listener must not break the S3 server
          }
        }
      });
    }
  });

  const address = await server.run();
  let closed = false;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory,
    onObjectCreated(listener) {
      listeners.push(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      const closing = server.close();
      server.httpServer?.closeAllConnections(); // idle keep-alive sockets of SDK clients would hold close() open
      await closing;
    },
  };
}

/**
 * S3 conditional writes (PutObject with If-None-Match: *), which s3rver lacks: 412 PreconditionFailed when the key
 * exists or another conditional write of it is in flight — what the pipeline's exactly-once claim relies on.
 */
function conditionalPutMiddleware(store: S3rverStore): KoaMiddleware {
  const inFlight = new Map<string, Promise<void>>();
  return async (ctx, next) => {
    const [bucket, ...keyParts] = ctx.path.slice(1).split('/').map(decodeURIComponent);
    const id = `${bucket}/${keyParts.join('/')}`;
    const conditional =
      ctx.method === 'PUT' && ctx.get('if-none-match').trim() === '*' && ctx.query.uploadId === undefined;
    if (!conditional) {
      // s3rver writes objects in place; a read must not see a conditional write half done (S3 writes are atomic).
      if (ctx.method === 'GET' || ctx.method === 'HEAD') await inFlight.get(id);
      return next();
    }
    const refuse = () => {
      ctx.status = 412;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
        '<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';
    };
    // Claimed synchronously, before any await, so two concurrent writers cannot both pass the check.
    if (inFlight.has(id)) return refuse();
    let done!: () => void;
    inFlight.set(id, new Promise<void>((resolve) => (done = resolve)));
    try {
      if (await store.existsObject(bucket, keyParts.join('/'))) return refuse();
      await next();
    } finally {
      inFlight.delete(id);
      done();
    }
  };
}

/**
 * IAM for every request: the SigV4 access key names the principal (local/iam/principals), the method, path and query
 * the action and resource (local/iam/s3Actions); a denial answers S3's 403 AccessDenied with AWS's message. An object
 * read of a missing key answers 403 instead of 404 unless the caller may s3:ListBucket, as S3 does.
 */
function authorizationMiddleware(authorizer: Authorizer): KoaMiddleware {
  return async (ctx, next) => {
    const accessKey = accessKeyOfRequest(ctx.headers, ctx.url);
    if (!accessKey) throw new S3Error('AccessDenied', 'Access Denied');
    const principal = principalForAccessKey(accessKey);
    if (!principal) {
      throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
        AWSAccessKeyId: accessKey,
      });
    }
    let path: string;
    try {
      path = decodeURIComponent(ctx.path);
    } catch {
      path = ctx.path;
    }
    const needed = s3Authorization({
      method: ctx.method,
      path,
      query: ctx.query,
      header: (name) => ctx.get(name) || undefined,
    });
    if (!needed)
      throw new S3Error('AccessDenied', `Access Denied: ${ctx.method} ${ctx.path} is not authorised locally`);
    for (const check of needed.checks) {
      const decision = await authorizer.authorize({ principal, ...check });
      if (!decision.allowed) throw new S3Error('AccessDenied', decision.message);
    }
    if (!needed.objectRead) return next();
    try {
      await next();
    } catch (error) {
      if ((error as { code?: string }).code !== 'NoSuchKey' || !needed.bucket) throw error;
      const list = await authorizer.authorize({
        principal,
        action: 's3:ListBucket',
        resource: `arn:aws:s3:::${needed.bucket}`,
      });
      if (!list.allowed) throw new S3Error('AccessDenied', list.message);
      throw error;
    }
  };
}

/** S3's longest object key: 1,024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/**
 * Writes under a longer key (PutObject, CopyObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload) answer
 * 400 KeyTooLongError, as S3 does; s3rver would store them.
 */
function keyLengthMiddleware(): KoaMiddleware {
  return async (ctx, next) => {
    if (ctx.method !== 'PUT' && ctx.method !== 'POST') return next();
    const slash = ctx.path.indexOf('/', 1);
    if (slash < 0) return next(); // a bucket operation
    let key: string;
    try {
      key = decodeURIComponent(ctx.path.slice(slash + 1));
    } catch {
      return next();
    }
    const size = Buffer.byteLength(key, 'utf8');
    if (size <= MAX_KEY_BYTES) return next();
    ctx.status = 400;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>KeyTooLongError</Code><Message>Your key is too long</Message>' +
      `<Size>${size}</Size><MaxSizeAllowed>${MAX_KEY_BYTES}</MaxSizeAllowed></Error>`;
  };
}

function registerAccessKeys(extra: { accessKeyId: string; secretAccessKey: string }[]): void {
  DUMMY_ACCOUNT.createKeyPair('S3RVER', 'S3RVER');
  for (const credentials of allCredentials())
    DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const { AWS_ACCESS_KEY_ID: envKeyId, AWS_SECRET_ACCESS_KEY: envSecret } = process.env;
  if (envKeyId && envSecret) DUMMY_ACCOUNT.createKeyPair(envKeyId, envSecret);
  for (const { accessKeyId, secretAccessKey } of extra) DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
}

async function describeCreatedObject(
  store: S3rverStore,
  record: S3rverRecord,
): Promise<Omit<LocalS3ObjectCreatedEvent, 'sequencer'>> {
  const bucket = record.s3.bucket.name;
  const { key, size, eTag } = record.s3.object;
  if (eTag !== undefined && size !== undefined) return { bucket, key, size: Number(size), etag: eTag };
  // s3rver's Copy event carries no ETag: read it from the stored metadata
  const metadata = await store.getMetadata(bucket, key).catch(() => ({}) as Record<string, string>);
  return {
    bucket,
    key,
    size: Number(size ?? metadata['content-length'] ?? 0),
    etag: (metadata.etag ?? '').replace(/"/g, ''),
  };
}

// S3 sequencers are hex strings that compare lexicographically in write order; fixed width keeps that true.
function createSequencer(): () => string {
  let counter = BigInt(Date.now()) << 20n;
  return () => {
    counter += 1n;
    return counter.toString(16).toUpperCase().padStart(16, '0');
  };
}

/**
 * s3rver removes a key's directories when a delete leaves them empty, and a PutObject into the same folder at that
 * moment fails to open its file (ENOENT, an unhandled stream error that ends the process). S3 has no directories:
 * deleting only the object's own files keeps listings the same and takes the race away (many runs' capacity tickets
 * come and go in one folder).
 */
function keepDirectoriesOnDelete(store: S3rverStore): void {
  store.deleteObject = async (bucket, key) => {
    await Promise.all(
      ['object', 'object.md5', 'metadata.json'].map((resource) =>
        unlink(store.getResourcePath(bucket, key, resource)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        }),
      ),
    );
  };
}
