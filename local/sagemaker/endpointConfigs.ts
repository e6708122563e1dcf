// CreateEndpointConfig / DescribeEndpointConfig / DeleteEndpointConfig / ListEndpointConfigs.
import type { EndpointConfigRecord, Json, LocalSageMakerContext } from './context';
import { epochSeconds, resourceArn } from './context';
import { validationException } from './errors';
import { listResources } from './listing';
import { findModel } from './models';
import { mergeTags } from './tags';
import { PATTERNS, validateName, Violations } from './validation';

/** The memory sizes a serverless variant may have (1 GB steps), from the Serverless Inference guide. */
export const SERVERLESS_MEMORY_SIZES = [1024, 2048, 3072, 4096, 5120, 6144];

function validateVariant(v: Violations, variant: unknown, path: string): void {
  if (!v.struct(variant, path, true)) return;
  v.string(variant.VariantName, `${path}.variantName`, {
    required: true,
    max: 63,
    pattern: PATTERNS.jobOrEndpointName,
  });
  v.string(variant.ModelName, `${path}.modelName`, { required: true, max: 63, pattern: PATTERNS.modelName });
  const serverless = v.struct(variant.ServerlessConfig, `${path}.serverlessConfig`);
  if (serverless) {
    const config = variant.ServerlessConfig as Json;
    const configPath = `${path}.serverlessConfig`;
    v.integer(config.MemorySizeInMB, `${configPath}.memorySizeInMB`, { required: true, min: 1024, max: 6144 });
    v.integer(config.MaxConcurrency, `${configPath}.maxConcurrency`, { required: true, min: 1, max: 200 });
    v.integer(config.ProvisionedConcurrency, `${configPath}.provisionedConcurrency`, { min: 1, max: 200 });
  }
  v.instanceType(variant.InstanceType, `${path}.instanceType`, !serverless);
  v.integer(variant.InitialInstanceCount, `${path}.initialInstanceCount`, { required: !serverless, min: 1 });
  v.number(variant.InitialVariantWeight, `${path}.initialVariantWeight`, { min: 0 });
  v.integer(variant.VolumeSizeInGB, `${path}.volumeSizeInGB`, { min: 1, max: 512 });
}

/** A variant is serverless when it has a ServerlessConfig (and then no instances). */
export function isServerlessVariant(variant: Json): boolean {
  return typeof variant.ServerlessConfig === 'object' && variant.ServerlessConfig !== null;
}

/**
 * What the shape constraints cannot say about serverless variants (wording ours; AWS documents the rules, not the
 * texts): either a ServerlessConfig or instances, never both; memory in 1 GB steps; provisioned concurrency at most
 * the maximum concurrency; and the Serverless Inference feature exclusions that an endpoint config can show —
 * multiple production variants, data capture, VPC configuration.
 */
function checkServerlessVariants(request: Json): void {
  const variants = request.ProductionVariants as Json[];
  for (const variant of variants) {
    if (!isServerlessVariant(variant)) continue;
    const name = String(variant.VariantName);
    const config = variant.ServerlessConfig as Json;
    if (variant.InstanceType !== undefined || variant.InitialInstanceCount !== undefined) {
      throw validationException(
        `Invalid ProductionVariant "${name}": a serverless variant (ServerlessConfig) cannot specify InstanceType or InitialInstanceCount.`,
      );
    }
    const memory = config.MemorySizeInMB as number;
    if (!SERVERLESS_MEMORY_SIZES.includes(memory)) {
      throw validationException(
        `Invalid MemorySizeInMB ${memory} for ProductionVariant "${name}": MemorySizeInMB must be one of ${SERVERLESS_MEMORY_SIZES.join(', ')}.`,
      );
    }
    const provisioned = config.ProvisionedConcurrency as number | undefined;
    if (provisioned !== undefined && provisioned > (config.MaxConcurrency as number)) {
      throw validationException(
        `Invalid ProvisionedConcurrency ${provisioned} for ProductionVariant "${name}": ProvisionedConcurrency must be less than or equal to MaxConcurrency (${String(config.MaxConcurrency)}).`,
      );
    }
  }
  if (!variants.some(isServerlessVariant)) return;
  if (variants.length > 1) {
    throw validationException(
      'Serverless Inference does not support multiple production variants: a serverless endpoint configuration has exactly one ProductionVariant.',
    );
  }
  for (const [member, feature] of [
    ['DataCaptureConfig', 'data capture'],
    ['VpcConfig', 'VPC configuration'],
  ] as const) {
    if (request[member] !== undefined && request[member] !== null) {
      throw validationException(`Serverless Inference does not support ${feature} (${member}).`);
    }
  }
}

export function createEndpointConfig(context: LocalSageMakerContext, request: Json): Json {
  const v = new Violations();
  v.string(request.EndpointConfigName, 'endpointConfigName', {
    required: true,
    max: 63,
    pattern: PATTERNS.jobOrEndpointName,
  });
  if (v.list(request.ProductionVariants, 'productionVariants', { required: true, min: 1, max: 10 })) {
    request.ProductionVariants.forEach((variant, index) =>
      validateVariant(v, variant, `productionVariants.${index + 1}.member`),
    );
  }
  v.string(request.KmsKeyId, 'kmsKeyId', { max: 2048 });
  v.tags(request.Tags);
  v.throwIfAny();

  checkServerlessVariants(request);
  const variants = request.ProductionVariants as Json[];
  const variantNames = variants.map((variant) => variant.VariantName as string);
  const duplicate = variantNames.find((name, index) => variantNames.indexOf(name) !== index);
  if (duplicate !== undefined)
    throw validationException(
      `Variant names must be unique within an endpoint configuration; '${duplicate}' is repeated.`,
    );

  const name = request.EndpointConfigName as string;
  const arn = resourceArn(context, 'endpoint-config', name);
  if (context.store.endpointConfigs.has(name.toLowerCase())) {
    throw validationException(`Cannot create already existing endpoint configuration "${arn}".`);
  }
  for (const variant of variants) {
    const modelName = variant.ModelName as string;
    if (!findModel(context, modelName))
      throw validationException(`Could not find model "${resourceArn(context, 'model', modelName)}".`);
  }
  const stored = structuredClone(request);
  for (const variant of stored.ProductionVariants as Json[]) variant.InitialVariantWeight ??= 1.0;
  context.store.endpointConfigs.set(name.toLowerCase(), { name, arn, request: stored, creationTime: new Date() });
  mergeTags(context, arn, request.Tags);
  return { EndpointConfigArn: arn };
}

export function findEndpointConfig(context: LocalSageMakerContext, name: string): EndpointConfigRecord | undefined {
  return context.store.endpointConfigs.get(name.toLowerCase());
}

export function endpointConfigNotFound(context: LocalSageMakerContext, name: string): Error {
  return validationException(
    `Could not find endpoint configuration "${resourceArn(context, 'endpoint-config', name)}".`,
  );
}

function requireEndpointConfig(context: LocalSageMakerContext, request: Json): EndpointConfigRecord {
  const name = validateName(request.EndpointConfigName, 'endpointConfigName', PATTERNS.jobOrEndpointName);
  const config = findEndpointConfig(context, name);
  if (!config) throw endpointConfigNotFound(context, name);
  return config;
}

export function describeEndpointConfig(context: LocalSageMakerContext, request: Json): Json {
  const config = requireEndpointConfig(context, request);
  const { Tags: _tags, EndpointConfigName: _name, ...echoed } = config.request;
  return {
    ...echoed,
    EndpointConfigName: config.name,
    EndpointConfigArn: config.arn,
    CreationTime: epochSeconds(config.creationTime),
  };
}

/** Deployed endpoints keep the configuration they were created with, as in SageMaker. */
export function deleteEndpointConfig(context: LocalSageMakerContext, request: Json): Json {
  const config = requireEndpointConfig(context, request);
  context.store.endpointConfigs.delete(config.name.toLowerCase());
  context.store.tagsByArn.delete(config.arn);
  return {};
}

export function listEndpointConfigs(context: LocalSageMakerContext, request: Json): Json {
  return listResources(request, {
    items: [...context.store.endpointConfigs.values()],
    describe: (config) => ({ name: config.name, creationTime: config.creationTime }),
    summarize: (config) => ({
      EndpointConfigName: config.name,
      EndpointConfigArn: config.arn,
      CreationTime: epochSeconds(config.creationTime),
    }),
    resultKey: 'EndpointConfigs',
    defaultSortOrder: 'Descending',
    sortByValues: ['Name', 'CreationTime'],
  });
}
