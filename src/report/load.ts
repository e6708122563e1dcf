// Reads what the report needs of a run from the data bucket: the checked artifacts and the two CSV files.
import { readArtifact, type ArtifactKeys, type Manifest, type Metrics, type Split } from '../artifacts';
import { getObjectText } from '../aws/objects';
import type { ServingArtifact } from './artifacts';

/** The run's keys the report reads (run.keys fits). */
export type ReportKeys = ArtifactKeys & { readonly predictions: string; readonly preparedDataset: string };

export interface StoredRunArtifacts {
  manifest: Manifest;
  metrics: Metrics;
  predictionsCsv: string;
  preparedDatasetCsv: string;
  split: Split;
  serving: ServingArtifact | null;
}

/** Everything reportInputFromArtifacts takes from the bucket; a malformed artifact fails naming it and the field. */
export async function readRunArtifacts(bucket: string, keys: ReportKeys): Promise<StoredRunArtifacts> {
  const [manifest, metrics, predictionsCsv, preparedDatasetCsv, split] = await Promise.all([
    readArtifact(bucket, keys, 'manifest'),
    readArtifact(bucket, keys, 'metrics'),
    getObjectText({ bucket, key: keys.predictions }),
    getObjectText({ bucket, key: keys.preparedDataset }),
    readArtifact(bucket, keys, 'split'),
  ]);
  // Only serving-mode runs record serving.json; without ListBucket a missing key answers 403: any failure means none.
  const serving =
    metrics.promotion.decision !== 'off' ? await readArtifact(bucket, keys, 'serving').catch(() => null) : null;
  return { manifest, metrics, predictionsCsv, preparedDatasetCsv, split, serving };
}
