// Which schema each artifact has and how its JSON is laid out, so reading and writing never disagree.
import type { z } from 'zod';
import { PipelineError } from '../errors';
import {
  ClaimSchema,
  FeatureTransformSchema,
  ManifestSchema,
  MetricsSchema,
  ServingSchema,
  SplitSchema,
  TrialsSchema,
} from './schemas';

/**
 * Every artifact by name. The name is also its key in the run layout (run.keys.<name>, src/domain/naming.ts).
 * `compact`: claim.json has always been written as one line (a conditional put of JSON.stringify); the others are
 * indented by two spaces and end with a newline (src/aws/objects.ts putJson).
 */
export const ARTIFACTS = {
  manifest: { schema: ManifestSchema, compact: false },
  split: { schema: SplitSchema, compact: false },
  claim: { schema: ClaimSchema, compact: true },
  metrics: { schema: MetricsSchema, compact: false },
  serving: { schema: ServingSchema, compact: false },
  trials: { schema: TrialsSchema, compact: false },
  transform: { schema: FeatureTransformSchema, compact: false },
} as const;

export type ArtifactName = keyof typeof ARTIFACTS;
export type ArtifactSchema<N extends ArtifactName> = (typeof ARTIFACTS)[N]['schema'];
/** The parsed artifact (what a reader gets). */
export type Artifact<N extends ArtifactName> = z.infer<ArtifactSchema<N>>;
/** What a writer may pass (optional fields may be undefined: JSON.stringify leaves them out). */
export type ArtifactInput<N extends ArtifactName> = z.input<ArtifactSchema<N>>;
/** The artifact keys of a run (run.keys fits). */
export type ArtifactKeys = { readonly [N in ArtifactName]: string };

export const ARTIFACT_NAMES = Object.keys(ARTIFACTS) as ArtifactName[];

/** An artifact that does not have its schema's shape; names the artifact, where it is, and each bad field. */
export class ArtifactError extends PipelineError {
  constructor(
    readonly artifact: ArtifactName,
    readonly location: string,
    readonly problems: string[],
    options?: ErrorOptions,
  ) {
    super(`${artifact} artifact ${location} is malformed: ${problems.join('; ')}`, options);
    this.name = 'ArtifactError';
  }
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
}

/** Checks a parsed JSON value against the artifact's schema; `location` (an s3:// URI or a path) goes into errors. */
export function parseArtifact<N extends ArtifactName>(name: N, value: unknown, location: string): Artifact<N> {
  const result = ARTIFACTS[name].schema.safeParse(value);
  if (!result.success) throw new ArtifactError(name, location, problemsOf(result.error));
  return result.data as Artifact<N>;
}

/** Parses the artifact's text; invalid JSON is reported like a schema problem. */
export function decodeArtifact<N extends ArtifactName>(name: N, text: string, location: string): Artifact<N> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ArtifactError(name, location, [`not JSON (${(error as Error).message})`], { cause: error });
  }
  return parseArtifact(name, value, location);
}

/**
 * The exact text the pipeline writes for the artifact, after checking it against the schema. The value itself is
 * serialised, not zod's copy of it, so the field order (and so the bytes) stay as the writer built them.
 */
export function encodeArtifact<N extends ArtifactName>(name: N, value: ArtifactInput<N>, location: string): string {
  parseArtifact(name, value, location);
  return ARTIFACTS[name].compact ? JSON.stringify(value) : `${JSON.stringify(value, null, 2)}\n`;
}
