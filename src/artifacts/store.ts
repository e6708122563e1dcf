// Typed reads and writes of a run's artifacts in S3, on the object adapters; every read is checked by the schema.
import {
  getObjectJsonEventually,
  getObjectText,
  headObject,
  putIfAbsent,
  putObject,
  type ObjectRef,
} from '../aws/objects';
import { decodeArtifact, encodeArtifact, parseArtifact } from './codec';
import type { Artifact, ArtifactInput, ArtifactKeys, ArtifactName } from './codec';

const JSON_CONTENT_TYPE = 'application/json';

function refOf(bucket: string, keys: ArtifactKeys, name: ArtifactName): ObjectRef {
  return { bucket, key: keys[name] };
}

function uriOf(ref: ObjectRef): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

/** Reads and checks one artifact of a run, e.g. readArtifact(run.bucket, run.keys, 'manifest'). */
export async function readArtifact<N extends ArtifactName>(
  bucket: string,
  keys: ArtifactKeys,
  name: N,
): Promise<Artifact<N>> {
  const ref = refOf(bucket, keys, name);
  return decodeArtifact(name, await getObjectText(ref), uriOf(ref));
}

/** The artifact, or undefined when the run never wrote it (HeadObject first, so a missing key is no error). */
export async function readArtifactIfPresent<N extends ArtifactName>(
  bucket: string,
  keys: ArtifactKeys,
  name: N,
): Promise<Artifact<N> | undefined> {
  const ref = refOf(bucket, keys, name);
  return (await headObject(ref)) ? readArtifact(bucket, keys, name) : undefined;
}

/** Reads an artifact a concurrent writer may still be completing (the claim after a lost conditional write). */
export async function readArtifactEventually<N extends ArtifactName>(
  bucket: string,
  keys: ArtifactKeys,
  name: N,
): Promise<Artifact<N>> {
  const ref = refOf(bucket, keys, name);
  return parseArtifact(name, await getObjectJsonEventually<unknown>(ref), uriOf(ref));
}

/** Checks and writes one artifact, byte for byte as the pipeline always wrote it. */
export async function writeArtifact<N extends ArtifactName>(
  bucket: string,
  keys: ArtifactKeys,
  name: N,
  value: ArtifactInput<N>,
): Promise<void> {
  const ref = refOf(bucket, keys, name);
  await putObject(ref, encodeArtifact(name, value, uriOf(ref)), JSON_CONTENT_TYPE);
}

/** Writes the artifact only if none exists (If-None-Match: *); false when another writer got there first. */
export async function writeArtifactIfAbsent<N extends ArtifactName>(
  bucket: string,
  keys: ArtifactKeys,
  name: N,
  value: ArtifactInput<N>,
): Promise<boolean> {
  const ref = refOf(bucket, keys, name);
  return putIfAbsent(ref, encodeArtifact(name, value, uriOf(ref)), JSON_CONTENT_TYPE);
}
