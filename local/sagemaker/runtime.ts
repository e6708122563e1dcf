// sagemaker-runtime InvokeEndpoint against the emulated k-NN inference container.
import type { DeployedVariant, LocalSageMakerContext } from './context';
import { findEndpointForInvocation } from './endpoints';
import { SageMakerApiError } from './errors';
import { knnAlgorithm } from './knn';

export const MAX_INVOCATION_PAYLOAD_BYTES = 6_291_456;

export interface InvocationRequest {
  endpointName: string;
  body: Buffer;
  /** Full size of the body as sent, even when it was too large to keep. */
  bodyLength: number;
  contentType?: string;
  accept?: string;
  targetVariant?: string;
}

export interface InvocationResult {
  body: Buffer;
  contentType: string;
  variantName: string;
}

const validationError = (message: string) => new SageMakerApiError('ValidationError', message);

export async function invokeEndpoint(
  context: LocalSageMakerContext,
  request: InvocationRequest,
): Promise<InvocationResult> {
  if (request.endpointName.length > 63) {
    throw validationError(
      `1 validation error detected: Value '${request.endpointName}' at 'endpointName' failed to satisfy constraint: Member must have length less than or equal to 63`,
    );
  }
  if (request.bodyLength > MAX_INVOCATION_PAYLOAD_BYTES) {
    throw validationError(
      `1 validation error detected: Value at 'body' failed to satisfy constraint: Member must have length less than or equal to ${MAX_INVOCATION_PAYLOAD_BYTES}`,
    );
  }
  const endpoint = findEndpointForInvocation(context, request.endpointName);
  if (!endpoint || endpoint.status !== 'InService' || !endpoint.deployedVariants) {
    throw validationError(`Endpoint ${request.endpointName} of account ${context.accountId} not found.`);
  }
  const variant = chooseVariant(endpoint.deployedVariants, request.targetVariant, endpoint.name);
  const accept = request.accept?.trim() || 'application/json';
  try {
    const response = await knnAlgorithm.invoke(
      variant.model,
      request.body,
      request.contentType ?? 'application/octet-stream',
      accept,
      variant.featureDim,
    );
    checkResponseSize(response.body);
    return { ...response, variantName: variant.variantName };
  } catch (error) {
    throw modelError(context, endpoint.name, variant.variantName, error);
  }
}

/**
 * The response body has the same 6 MB cap as the request. AWS does not document what a caller gets when the container
 * answers more: locally the container's answer counts as a server error, so the caller gets ModelError (424) with
 * OriginalStatusCode 500, as for any response the endpoint cannot pass on.
 */
function checkResponseSize(body: Buffer): void {
  if (body.length > MAX_INVOCATION_PAYLOAD_BYTES) {
    throw new Error(
      `Response body of ${body.length} bytes exceeds the ${MAX_INVOCATION_PAYLOAD_BYTES}-byte InvokeEndpoint response limit`,
    );
  }
}

/** TargetVariant if given, else the heaviest variant (first on ties) so routing is deterministic. */
function chooseVariant(
  variants: DeployedVariant[],
  targetVariant: string | undefined,
  endpointName: string,
): DeployedVariant {
  if (targetVariant) {
    const target = variants.find((variant) => variant.variantName === targetVariant);
    if (!target)
      throw validationError(`The variant(s) "[${targetVariant}]" are not valid for endpoint "${endpointName}".`);
    return target;
  }
  return variants.reduce((best, variant) => (variant.weight > best.weight ? variant : best));
}

/** The container's 4xx/5xx surfaces as ModelError (HTTP 424) carrying the original status and message. */
function modelError(
  context: LocalSageMakerContext,
  endpointName: string,
  variantName: string,
  error: unknown,
): SageMakerApiError {
  const clientError = knnAlgorithm.isInferenceInputError(error);
  const originalStatusCode = clientError ? knnAlgorithm.inferenceErrorStatus(error) : 500;
  const originalMessage = error instanceof Error ? error.message : String(error);
  const { region, accountId } = context;
  const logGroup = `/aws/sagemaker/Endpoints/${endpointName}`;
  const message =
    `Received ${clientError ? 'client' : 'server'} error (${originalStatusCode}) from ${variantName} with message "${originalMessage}". ` +
    `See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=${logGroup} in account ${accountId} for more information.`;
  return new SageMakerApiError('ModelError', message, 424, {
    ErrorCode: clientError ? 'CLIENT_ERROR_FROM_MODEL' : 'SERVER_ERROR_FROM_MODEL',
    OriginalStatusCode: originalStatusCode,
    OriginalMessage: originalMessage,
    LogStreamArn: `arn:aws:logs:${region}:${accountId}:log-group:${logGroup}`,
  });
}
