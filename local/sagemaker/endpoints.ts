// CreateEndpoint / DescribeEndpoint / DeleteEndpoint / ListEndpoints and the emulated model deployment.
import { endpointDemand, recordPeak, requireCapacity } from './quotas';
import type { DeployedVariant, EndpointRecord, Json, LocalSageMakerContext, ServerlessConfig } from './context';
import { epochSeconds, resourceArn } from './context';
import { endpointConfigNotFound, findEndpointConfig, isServerlessVariant } from './endpointConfigs';
import { validationException } from './errors';
import { knnAlgorithm } from './knn';
import { listResources } from './listing';
import { findModel } from './models';
import { readS3Uri, roleS3 } from './s3Io';
import { mergeTags } from './tags';
import { PATTERNS, validateName, Violations } from './validation';

const ENDPOINT_STATUSES = [
  'OutOfService',
  'Creating',
  'Updating',
  'SystemUpdating',
  'RollingBack',
  'InService',
  'Deleting',
  'Failed',
  'UpdateRollbackFailed',
];
const MAX_FAILURE_REASON = 1024;

interface VariantPlan {
  variantName: string;
  weight: number;
  instanceCount: number;
  modelName: string;
  /** The model as it was at CreateEndpoint time; undefined if it did not exist. */
  model?: Json;
  serverless?: ServerlessConfig;
}

export function createEndpoint(context: LocalSageMakerContext, request: Json): Json {
  const v = new Violations();
  v.string(request.EndpointName, 'endpointName', { required: true, max: 63, pattern: PATTERNS.jobOrEndpointName });
  v.string(request.EndpointConfigName, 'endpointConfigName', {
    required: true,
    max: 63,
    pattern: PATTERNS.jobOrEndpointName,
  });
  v.tags(request.Tags);
  v.throwIfAny();

  const name = request.EndpointName as string;
  const arn = resourceArn(context, 'endpoint', name);
  if (context.store.endpoints.has(name.toLowerCase()))
    throw validationException(`Cannot create already existing endpoint "${arn}".`);
  const config = findEndpointConfig(context, request.EndpointConfigName as string);
  if (!config) throw endpointConfigNotFound(context, request.EndpointConfigName as string);

  const now = new Date();
  const endpoint: EndpointRecord = {
    name,
    arn,
    configName: config.name,
    config: structuredClone(config.request),
    status: 'Creating',
    creationTime: now,
    lastModifiedTime: now,
    injectedFailure: context.faults.takeEndpointFailure(),
  };
  const plans = variantPlans(context, endpoint.config);
  refuseServerlessExclusions(plans);
  requireCapacity(context, 'endpoint', endpointDemand(endpoint.config));
  context.store.endpoints.set(name.toLowerCase(), endpoint);
  recordPeak(context, 'endpoint');
  mergeTags(context, arn, request.Tags);
  context.scheduler.after(
    context.timing.endpointCreateDelayMs,
    () => deployEndpoint(context, endpoint, plans),
    (error) =>
      failEndpoint(
        endpoint,
        `Internal error while creating the endpoint: ${error instanceof Error ? error.message : String(error)}`,
      ),
  );
  return { EndpointArn: arn };
}

function variantPlans(context: LocalSageMakerContext, config: Json): VariantPlan[] {
  return (config.ProductionVariants as Json[]).map((variant) => ({
    variantName: variant.VariantName as string,
    weight: (variant.InitialVariantWeight as number | undefined) ?? 1,
    instanceCount: (variant.InitialInstanceCount as number | undefined) ?? 1,
    modelName: variant.ModelName as string,
    model: structuredClone(findModel(context, variant.ModelName as string)?.request),
    ...(isServerlessVariant(variant)
      ? { serverless: structuredClone(variant.ServerlessConfig) as ServerlessConfig }
      : {}),
  }));
}

/**
 * Serverless Inference's feature exclusions that show on the model (Serverless Inference guide, "Feature
 * exclusions"): VPC configuration and network isolation. Refused when the endpoint is created or updated (wording
 * ours).
 */
function refuseServerlessExclusions(plans: VariantPlan[]): void {
  for (const plan of plans) {
    if (!plan.serverless || !plan.model) continue;
    if (plan.model.VpcConfig !== undefined && plan.model.VpcConfig !== null) {
      throw validationException(
        `Serverless Inference does not support VPC configuration: model "${plan.modelName}" of ProductionVariant "${plan.variantName}" has a VpcConfig.`,
      );
    }
    if (plan.model.EnableNetworkIsolation === true) {
      throw validationException(
        `Serverless Inference does not support network isolation: model "${plan.modelName}" of ProductionVariant "${plan.variantName}" has EnableNetworkIsolation.`,
      );
    }
  }
}

/**
 * UpdateEndpoint: Updating, then InService on the new config — or, when the new config cannot be deployed,
 * back to InService on the previous config with a FailureReason (SageMaker's automatic rollback).
 */
export function updateEndpoint(context: LocalSageMakerContext, request: Json): Json {
  const v = new Violations();
  v.string(request.EndpointName, 'endpointName', { required: true, max: 63, pattern: PATTERNS.jobOrEndpointName });
  v.string(request.EndpointConfigName, 'endpointConfigName', {
    required: true,
    max: 63,
    pattern: PATTERNS.jobOrEndpointName,
  });
  v.throwIfAny();
  const endpoint = requireEndpoint(context, request);
  if (endpoint.status !== 'InService') {
    throw validationException(`Cannot update in-progress endpoint "${endpoint.arn}".`);
  }
  const config = findEndpointConfig(context, request.EndpointConfigName as string);
  if (!config) throw endpointConfigNotFound(context, request.EndpointConfigName as string);
  const newConfig = structuredClone(config.request);
  // "You cannot convert your instance-based, real-time endpoint to a serverless endpoint. If you try to update your
  // real-time endpoint to serverless, you receive a ValidationError message. You can convert a serverless endpoint to
  // real-time, but once you make the update, you cannot roll it back to serverless." (Serverless Inference guide)
  const servesOnInstances = (endpoint.config.ProductionVariants as Json[]).some((v) => !isServerlessVariant(v));
  if (servesOnInstances && (newConfig.ProductionVariants as Json[]).some(isServerlessVariant)) {
    throw validationException(
      `Cannot update endpoint "${endpoint.arn}" to serverless endpoint configuration "${config.arn}": an instance-based (real-time) endpoint cannot be converted to a serverless endpoint.`,
    );
  }
  const plans = variantPlans(context, newConfig);
  refuseServerlessExclusions(plans);
  // Blue/green: the new config's instances come up beside the old ones and count against the quota until the switch.
  requireCapacity(context, 'endpoint', endpointDemand(newConfig));
  const injectedFailure = context.faults.takeEndpointUpdateFailure();
  endpoint.status = 'Updating';
  endpoint.pendingConfig = newConfig;
  recordPeak(context, 'endpoint');
  endpoint.lastModifiedTime = new Date();
  const rollBack = (reason: string) => {
    endpoint.pendingConfig = undefined;
    endpoint.status = 'InService';
    endpoint.failureReason = reason.slice(0, MAX_FAILURE_REASON);
    endpoint.lastModifiedTime = new Date();
  };
  context.scheduler.after(
    context.timing.endpointCreateDelayMs,
    async () => {
      if (endpoint.status !== 'Updating') return;
      if (injectedFailure !== undefined) return rollBack(injectedFailure);
      const deployed: DeployedVariant[] = [];
      for (const plan of plans) {
        const outcome = await loadVariant(context, plan);
        if (typeof outcome === 'string') return rollBack(outcome);
        deployed.push(outcome);
      }
      if (endpoint.status !== 'Updating' || context.scheduler.isClosed) return;
      endpoint.configName = config.name;
      endpoint.config = newConfig;
      endpoint.deployedVariants = deployed;
      endpoint.pendingConfig = undefined;
      endpoint.failureReason = undefined;
      endpoint.status = 'InService';
      endpoint.lastModifiedTime = new Date();
    },
    (error) =>
      rollBack(`Internal error while updating the endpoint: ${error instanceof Error ? error.message : String(error)}`),
  );
  return { EndpointArn: endpoint.arn };
}

function failEndpoint(endpoint: EndpointRecord, reason: string): void {
  if (endpoint.status !== 'Creating') return;
  endpoint.status = 'Failed';
  endpoint.failureReason = reason.slice(0, MAX_FAILURE_REASON);
  endpoint.lastModifiedTime = new Date();
}

async function deployEndpoint(
  context: LocalSageMakerContext,
  endpoint: EndpointRecord,
  plans: VariantPlan[],
): Promise<void> {
  if (endpoint.status !== 'Creating') return;
  if (endpoint.injectedFailure !== undefined) return failEndpoint(endpoint, endpoint.injectedFailure);
  const deployed: DeployedVariant[] = [];
  for (const plan of plans) {
    const outcome = await loadVariant(context, plan);
    if (typeof outcome === 'string') return failEndpoint(endpoint, outcome);
    deployed.push(outcome);
  }
  if (endpoint.status !== 'Creating' || context.scheduler.isClosed) return;
  endpoint.deployedVariants = deployed;
  endpoint.status = 'InService';
  endpoint.lastModifiedTime = new Date();
}

/** Loads one variant's model, or returns the FailureReason. */
async function loadVariant(context: LocalSageMakerContext, plan: VariantPlan): Promise<DeployedVariant | string> {
  if (!plan.model) return `Could not find model "${resourceArn(context, 'model', plan.modelName)}".`;
  const container = (plan.model.PrimaryContainer ?? (plan.model.Containers as Json[] | undefined)?.[0]) as Json;
  const modelDataUrl = container.ModelDataUrl as string | undefined;
  if (!modelDataUrl)
    return `Model "${plan.modelName}" has no ModelDataUrl; the k-NN container needs the training job's model.tar.gz.`;
  let artifact: Buffer;
  try {
    artifact = await readS3Uri(roleS3(context, plan.model.ExecutionRoleArn), modelDataUrl);
  } catch {
    return `Failed to download model data for container "container_1" from URL: "${modelDataUrl}". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the model.`;
  }
  let model: unknown;
  try {
    model = await knnAlgorithm.unpackModel(artifact);
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    return `Failed to extract model data archive from URL "${modelDataUrl}". Please ensure that the object located at the URL is a valid tar.gz archive. (${cause})`;
  }
  return {
    variantName: plan.variantName,
    weight: plan.weight,
    instanceCount: plan.serverless ? 0 : plan.instanceCount,
    ...(plan.serverless ? { serverless: plan.serverless } : {}),
    image: (container.Image as string | undefined) ?? '',
    model,
    featureDim: knnAlgorithm.featureDim(model),
    deployedAt: new Date(),
  };
}

function requireEndpoint(context: LocalSageMakerContext, request: Json): EndpointRecord {
  const name = validateName(request.EndpointName, 'endpointName', PATTERNS.jobOrEndpointName);
  const endpoint = context.store.endpoints.get(name.toLowerCase());
  if (!endpoint) throw validationException(`Could not find endpoint "${resourceArn(context, 'endpoint', name)}".`);
  return endpoint;
}

/** The runtime needs the exact name: case is preserved and must match in InvokeEndpoint. */
export function findEndpointForInvocation(context: LocalSageMakerContext, name: string): EndpointRecord | undefined {
  const endpoint = context.store.endpoints.get(name.toLowerCase());
  return endpoint && endpoint.name === name ? endpoint : undefined;
}

export function describeEndpoint(context: LocalSageMakerContext, request: Json): Json {
  const endpoint = requireEndpoint(context, request);
  return {
    EndpointName: endpoint.name,
    EndpointArn: endpoint.arn,
    EndpointConfigName: endpoint.configName,
    ...(endpoint.deployedVariants && endpoint.status !== 'Failed'
      ? {
          ProductionVariants: endpoint.deployedVariants.map((variant) => ({
            VariantName: variant.variantName,
            DeployedImages: [
              {
                SpecifiedImage: variant.image,
                ResolvedImage: variant.image,
                ResolutionTime: epochSeconds(variant.deployedAt),
              },
            ],
            CurrentWeight: variant.weight,
            DesiredWeight: variant.weight,
            ...(variant.serverless
              ? { CurrentServerlessConfig: variant.serverless, DesiredServerlessConfig: variant.serverless }
              : { CurrentInstanceCount: variant.instanceCount, DesiredInstanceCount: variant.instanceCount }),
          })),
        }
      : {}),
    EndpointStatus: endpoint.status,
    // An update in progress: the config being deployed (the old one serves until the switch).
    ...(endpoint.pendingConfig
      ? {
          PendingDeploymentSummary: {
            EndpointConfigName: endpoint.pendingConfig.EndpointConfigName,
            StartTime: epochSeconds(endpoint.lastModifiedTime),
          },
        }
      : {}),
    ...(endpoint.failureReason ? { FailureReason: endpoint.failureReason } : {}),
    CreationTime: epochSeconds(endpoint.creationTime),
    LastModifiedTime: epochSeconds(endpoint.lastModifiedTime),
  };
}

export function deleteEndpoint(context: LocalSageMakerContext, request: Json): Json {
  const endpoint = requireEndpoint(context, request);
  if (endpoint.status === 'Creating' || endpoint.status === 'Updating' || endpoint.status === 'Deleting') {
    throw validationException(`Cannot update in-progress endpoint "${endpoint.arn}".`);
  }
  endpoint.status = 'Deleting';
  endpoint.lastModifiedTime = new Date();
  context.scheduler.after(
    context.timing.endpointDeleteDelayMs,
    () => {
      context.store.endpoints.delete(endpoint.name.toLowerCase());
      context.store.tagsByArn.delete(endpoint.arn);
    },
    () => undefined,
  );
  return {};
}

export function listEndpoints(context: LocalSageMakerContext, request: Json): Json {
  return listResources(request, {
    items: [...context.store.endpoints.values()],
    describe: (endpoint) => ({
      name: endpoint.name,
      creationTime: endpoint.creationTime,
      lastModifiedTime: endpoint.lastModifiedTime,
      status: endpoint.status,
    }),
    summarize: (endpoint) => ({
      EndpointName: endpoint.name,
      EndpointArn: endpoint.arn,
      CreationTime: epochSeconds(endpoint.creationTime),
      LastModifiedTime: epochSeconds(endpoint.lastModifiedTime),
      EndpointStatus: endpoint.status,
    }),
    resultKey: 'Endpoints',
    defaultSortOrder: 'Descending',
    sortByValues: ['Name', 'CreationTime', 'Status'],
    statusValues: ENDPOINT_STATUSES,
  });
}
