// CreateModel / DescribeModel / DeleteModel / ListModels.
import type { Json, LocalSageMakerContext, ModelRecord } from './context';
import { epochSeconds, resourceArn } from './context';
import { validationException } from './errors';
import { listResources } from './listing';
import { mergeTags } from './tags';
import { PATTERNS, refuseUnknownImage, validateName, Violations } from './validation';

function validateContainer(v: Violations, container: unknown, path: string, required: boolean): void {
  if (!v.struct(container, path, required)) return;
  v.string(container.Image, `${path}.image`, { max: 255 });
  v.string(container.ModelDataUrl, `${path}.modelDataUrl`, { max: 1024, pattern: PATTERNS.s3Uri });
  v.string(container.ContainerHostname, `${path}.containerHostname`, {
    max: 63,
    pattern: '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}',
  });
  v.oneOf(container.Mode, `${path}.mode`, ['SingleModel', 'MultiModel']);
  v.stringMap(container.Environment, `${path}.environment`, {
    maxEntries: 100,
    keyMax: 1024,
    valueMax: 1024,
    keyPattern: '^[a-zA-Z_][a-zA-Z0-9_]*$',
  });
}

export function createModel(context: LocalSageMakerContext, request: Json): Json {
  const v = new Violations();
  v.string(request.ModelName, 'modelName', { required: true, max: 63, pattern: PATTERNS.modelName });
  v.string(request.ExecutionRoleArn, 'executionRoleArn', { min: 20, max: 2048, pattern: PATTERNS.roleArn });
  validateContainer(v, request.PrimaryContainer, 'primaryContainer', false);
  if (v.list(request.Containers, 'containers', { max: 15 })) {
    request.Containers.forEach((container, index) =>
      validateContainer(v, container, `containers.${index + 1}.member`, true),
    );
  }
  v.boolean(request.EnableNetworkIsolation, 'enableNetworkIsolation');
  v.tags(request.Tags);
  v.throwIfAny();
  if (!request.PrimaryContainer && !(Array.isArray(request.Containers) && request.Containers.length > 0)) {
    throw validationException('Either PrimaryContainer or Containers must be specified.');
  }
  for (const container of [request.PrimaryContainer, ...((request.Containers as Json[] | undefined) ?? [])]) {
    const image = (container as Json | undefined)?.Image;
    if (typeof image === 'string') refuseUnknownImage(image, { operation: 'model', region: context.region });
  }

  const name = request.ModelName as string;
  const arn = resourceArn(context, 'model', name);
  if (context.store.models.has(name.toLowerCase()))
    throw validationException(`Cannot create already existing model "${arn}".`);
  context.store.models.set(name.toLowerCase(), {
    name,
    arn,
    request: structuredClone(request),
    creationTime: new Date(),
  });
  mergeTags(context, arn, request.Tags);
  return { ModelArn: arn };
}

export function findModel(context: LocalSageMakerContext, name: string): ModelRecord | undefined {
  return context.store.models.get(name.toLowerCase());
}

function requireModel(context: LocalSageMakerContext, request: Json): ModelRecord {
  const name = validateName(request.ModelName, 'modelName', PATTERNS.modelName);
  const model = findModel(context, name);
  if (!model) throw validationException(`Could not find model "${resourceArn(context, 'model', name)}".`);
  return model;
}

export function describeModel(context: LocalSageMakerContext, request: Json): Json {
  const model = requireModel(context, request);
  const { Tags: _tags, ModelName: _name, ...echoed } = model.request;
  return {
    EnableNetworkIsolation: false,
    ...echoed,
    ModelName: model.name,
    ModelArn: model.arn,
    CreationTime: epochSeconds(model.creationTime),
  };
}

/** Removes only the registry entry: artifacts stay in S3 and deployed endpoints keep serving. */
export function deleteModel(context: LocalSageMakerContext, request: Json): Json {
  const model = requireModel(context, request);
  context.store.models.delete(model.name.toLowerCase());
  context.store.tagsByArn.delete(model.arn);
  return {};
}

export function listModels(context: LocalSageMakerContext, request: Json): Json {
  return listResources(request, {
    items: [...context.store.models.values()],
    describe: (model) => ({ name: model.name, creationTime: model.creationTime }),
    summarize: (model) => ({
      ModelName: model.name,
      ModelArn: model.arn,
      CreationTime: epochSeconds(model.creationTime),
    }),
    resultKey: 'Models',
    defaultSortOrder: 'Descending',
    sortByValues: ['Name', 'CreationTime'],
  });
}
