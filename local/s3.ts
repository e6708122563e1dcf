// Local S3: s3rver in-process on 127.0.0.1, silent, with an object-created hook for the local event bus.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import S3rverModule from 's3rver';
import { DUMMY_ACCOUNT as dummyAccount } from 's3rver/lib/models/account';

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
}

// s3rver ships no types (local/s3rver.d.ts); these are the parts we use (see node_modules/s3rver/lib/s3rver.js).
interface S3rverRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
}
interface S3rverStore {
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  existsObject(bucket: string, key: string): Promise<boolean>;
}
interface KoaContext {
  method: string;
  path: string;
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

const S3rver = S3rverModule as S3rverConstructor;
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

  server.middleware.unshift(conditionalPutMiddleware(server.store));

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

function registerAccessKeys(extra: { accessKeyId: string; secretAccessKey: string }[]): void {
  DUMMY_ACCOUNT.createKeyPair('S3RVER', 'S3RVER');
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
