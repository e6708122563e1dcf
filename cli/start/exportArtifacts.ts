import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/aws/clients';
import { getObjectBytes } from '../../src/aws/objects';

/**
 * Copies every object under a run's prefix into a plain folder (same relative layout), so people can open
 * predictions.csv or report.html directly. Returns the local path of each key.
 */
export async function exportRunArtifacts(
  bucket: string,
  prefix: string,
  destination: string,
): Promise<Map<string, string>> {
  const copied = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key!;
      const target = path.join(destination, ...key.slice(prefix.length).split('/'));
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, await getObjectBytes({ bucket, key }));
      copied.set(key, target);
    }
    token = page.NextContinuationToken;
  } while (token);
  return copied;
}
