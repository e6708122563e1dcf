// What a run's model expects as input, read from the run's artifacts: its raw feature columns and its fitted
// feature transform (none when the run did not transform its features).
import type { FeatureTransform, Manifest } from '../artifacts/schemas';
import type { RunLayout } from '../domain/naming';
import { getObjectJson, getObjectJsonIfExists } from './objects';

export interface RunFeatures {
  runId: string;
  /** The prepared feature columns, in order: what a raw row holds besides the label. */
  featureNames: string[];
  transform: FeatureTransform | null;
}

/** The run's feature columns and transform; undefined when its manifest is gone (or it never prepared data). */
export async function runFeatures(bucket: string, runId: string, layout: RunLayout): Promise<RunFeatures | undefined> {
  const manifest = await getObjectJsonIfExists<Manifest>({ bucket, key: layout.manifest });
  if (!manifest) return undefined;
  const transform = manifest.features?.transformed
    ? await getObjectJson<FeatureTransform>({ bucket, key: layout.transform })
    : null;
  return { runId, featureNames: manifest.featureNames, transform };
}
