// What a run is waiting for: the claim records the capacity queue writes under runs/<run>/capacity/ (README
// "Bursts and quotas"), for `runs` and `watch`.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CapacityWaitSchema, type CapacityWait } from '../../src/artifacts/schemas';
import type { RunConfig } from '../../src/domain/runConfig';
import { readObject } from './report';
import type { Target } from './target';

export async function capacityWaits(target: Target, run: Pick<RunConfig, 'keys'>): Promise<CapacityWait[]> {
  const page = await target.s3.send(
    new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `${run.keys.root}capacity/` }),
  );
  const texts = await Promise.all((page.Contents ?? []).map((object) => readObject(target, object.Key!)));
  return texts.flatMap((text) => {
    const parsed = text === undefined ? undefined : CapacityWaitSchema.safeParse(JSON.parse(text));
    return parsed?.success ? [parsed.data] : [];
  });
}

/** "waiting for 'ml.m5.large for training job usage' since 23:10:02 UTC (3 ahead, quota 2)" */
export function describeWait(wait: CapacityWait): string {
  const limit = wait.limit === undefined ? '' : `, quota ${wait.limit}`;
  return `waiting for '${wait.quota}' since ${wait.enqueuedAt.slice(11, 19)} UTC (${wait.ahead} ahead${limit})`;
}
