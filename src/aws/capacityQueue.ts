// The fair capacity queue in the data bucket: tickets (one per waiting claim) and each claim's record under its run.
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Client } from './clients';
import type { CapacityScope, Ticket } from '../domain/capacity';
import { isServingEndpointName, prefixOfServingEndpoint, servingConfigOfRun } from '../domain/naming';
import { getObjectJson, putJson, putObject } from './objects';
import { describeEndpoint, resourceExists } from './sagemaker';

/** Every key under a prefix, in S3's order (UTF-8 binary: the queue's order). */
export async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** A ticket's key says everything; the body repeats it for people browsing the bucket. */
export async function putTicket(bucket: string, key: string): Promise<void> {
  await putObject({ bucket, key }, key, 'text/plain');
}

export async function deleteKey(bucket: string, key: string): Promise<void> {
  await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/**
 * Whether a ticket's claim has got its instances. Its resource exists (it was admitted and created it); for the
 * stable serving endpoint, which exists before every update, the endpoint serves or is deploying the ticket's run's
 * serving config.
 */
export async function claimAdmitted(
  scope: CapacityScope,
  ticket: Pick<Ticket, 'resource' | 'runId'>,
): Promise<boolean> {
  if (scope !== 'endpoint' || !isServingEndpointName(ticket.resource)) return resourceExists(scope, ticket.resource);
  const state = await describeEndpoint(ticket.resource);
  const config = servingConfigOfRun(prefixOfServingEndpoint(ticket.resource), ticket.runId);
  return state !== undefined && (state.configName === config || state.pendingConfigName === config);
}
export { getObjectJson, putJson };

/** Deletes every ticket of a run (cleanup and janitor: a run that ends must never block the queue). */
export async function releaseRunTickets(bucket: string, queuePrefix: string, runId: string): Promise<number> {
  const mine = (await listKeys(bucket, queuePrefix)).filter((key) => key.includes(`~${runId}~`));
  await Promise.all(mine.map((key) => deleteKey(bucket, key)));
  return mine.length;
}

/** The claim records of a run (runs/<run>/capacity/*.json), for its outcome notification. */
export async function readRunWaits<T>(bucket: string, runRoot: string): Promise<T[]> {
  const keys = await listKeys(bucket, `${runRoot}capacity/`);
  return Promise.all(keys.map((key) => getObjectJson<T>({ bucket, key })));
}
