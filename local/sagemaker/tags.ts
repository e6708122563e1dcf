// AddTags / ListTags / DeleteTags, stored per resource ARN.
import type { Json, LocalSageMakerContext, Tag } from './context';
import { validationException } from './errors';
import { Violations } from './validation';

const ARN_PATTERN = '^arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:.+$';

/** Later tags with the same key replace earlier ones, as AddTags does. */
export function mergeTags(context: LocalSageMakerContext, arn: string, tags: unknown): void {
  if (!Array.isArray(tags) || tags.length === 0) return;
  const merged = new Map((context.store.tagsByArn.get(arn) ?? []).map((tag) => [tag.Key, tag.Value]));
  for (const tag of tags as Tag[]) merged.set(tag.Key, tag.Value ?? '');
  if (merged.size > 50) throw validationException('Cannot exceed quota for tags: 50 tags per resource.');
  context.store.tagsByArn.set(
    arn,
    [...merged].map(([Key, Value]) => ({ Key, Value })),
  );
}

function knownArns(context: LocalSageMakerContext): Set<string> {
  const { trainingJobs, transformJobs, models, endpointConfigs, endpoints } = context.store;
  return new Set(
    [
      ...trainingJobs.values(),
      ...transformJobs.values(),
      ...models.values(),
      ...endpointConfigs.values(),
      ...endpoints.values(),
    ].map((r) => r.arn),
  );
}

function requireResourceArn(context: LocalSageMakerContext, request: Json): string {
  const violations = new Violations();
  violations.string(request.ResourceArn, 'resourceArn', { required: true, max: 256, pattern: ARN_PATTERN });
  violations.throwIfAny();
  const arn = request.ResourceArn as string;
  if (!knownArns(context).has(arn)) throw validationException('Requested resource not found.');
  return arn;
}

export function addTags(context: LocalSageMakerContext, request: Json): Json {
  const violations = new Violations();
  violations.tags(request.Tags);
  violations.required(request.Tags, 'tags');
  violations.throwIfAny();
  const arn = requireResourceArn(context, request);
  mergeTags(context, arn, request.Tags);
  return { Tags: request.Tags };
}

export function deleteTags(context: LocalSageMakerContext, request: Json): Json {
  const violations = new Violations();
  if (violations.list(request.TagKeys, 'tagKeys', { required: true, min: 1, max: 50 })) {
    (request.TagKeys as unknown[]).forEach((key, index) =>
      violations.string(key, `tagKeys.${index + 1}.member`, { required: true, min: 1, max: 128 }),
    );
  }
  violations.throwIfAny();
  const arn = requireResourceArn(context, request);
  const removed = new Set(request.TagKeys as string[]);
  context.store.tagsByArn.set(
    arn,
    (context.store.tagsByArn.get(arn) ?? []).filter((tag) => !removed.has(tag.Key)),
  );
  return {};
}

export function listTags(context: LocalSageMakerContext, request: Json): Json {
  const violations = new Violations();
  violations.integer(request.MaxResults, 'maxResults', { min: 50, max: 100 });
  violations.throwIfAny();
  const arn = requireResourceArn(context, request);
  const tags = context.store.tagsByArn.get(arn) ?? [];
  const offset = typeof request.NextToken === 'string' ? Number.parseInt(request.NextToken, 10) || 0 : 0;
  const pageSize = (request.MaxResults as number | undefined) ?? 50;
  const result: Json = { Tags: tags.slice(offset, offset + pageSize) };
  if (offset + pageSize < tags.length) result.NextToken = String(offset + pageSize);
  return result;
}
