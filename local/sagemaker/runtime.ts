// sagemaker-runtime InvokeEndpoint against the emulated k-NN inference container.
import { randomUUID } from 'node:crypto';
import type { DeployedVariant, LocalSageMakerContext } from './context';
import { findEndpointForInvocation } from './endpoints';
import { SageMakerApiError } from './errors';
import { knnAlgorithm } from './knn';

export const MAX_INVOCATION_PAYLOAD_BYTES = 6_291_456;
/** "The maximum request and response payload size for serverless invocations is 4 MB" (serverless-endpoints-invoke). */
export const MAX_SERVERLESS_PAYLOAD_BYTES = 4 * 1024 * 1024;

export interface InvocationRequest {
  endpointName: string;
  body: Buffer;
  /** Full size of the body as sent, even when it was too large to keep. */
  bodyLength: number;
  contentType?: string;
  accept?: string;
  targetVariant?: string;
  /** The x-amzn-RequestId of the response (errors name it). */
  requestId?: string;
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
  const serverless = variant.serverless;
  // A serverless endpoint answers an oversized request as AWS does (sagemaker-python-sdk issue #4271).
  if (serverless && request.bodyLength > MAX_SERVERLESS_PAYLOAD_BYTES) {
    throw validationError(`Request ${request.requestId ?? randomUUID()} has oversize body.`);
  }
  const accept = request.accept?.trim() || 'application/json';
  const inFlight = context.store.invocationsInFlight;
  const inFlightKey = `${endpoint.arn}/${variant.variantName}`;
  if (serverless) {
    // "any endpoint invocations beyond the maximum are throttled" (Serverless Inference, Concurrent invocations)
    const running = inFlight.get(inFlightKey) ?? 0;
    if (running >= serverless.MaxConcurrency) throw new SageMakerApiError('ThrottlingException', 'Rate exceeded', 400);
    inFlight.set(inFlightKey, running + 1);
  }
  try {
    const answer = invokeContainer(context, variant, request.body, request.contentType, accept);
    const response = serverless
      ? await withinTimeout(answer, context.timing.serverlessInvocationTimeoutMs, variant.variantName)
      : await answer;
    checkResponseSize(response.body, serverless ? MAX_SERVERLESS_PAYLOAD_BYTES : MAX_INVOCATION_PAYLOAD_BYTES);
    return { ...response, variantName: variant.variantName };
  } catch (error) {
    throw modelError(context, endpoint.name, variant.variantName, error);
  } finally {
    if (serverless) {
      const running = (inFlight.get(inFlightKey) ?? 1) - 1;
      if (running > 0) inFlight.set(inFlightKey, running);
      else inFlight.delete(inFlightKey);
    }
  }
}

/** The model container answering one request (what endpoints and transform jobs send it), with slowModel's latency. */
export async function invokeContainer(
  context: LocalSageMakerContext,
  variant: Pick<DeployedVariant, 'model' | 'featureDim'>,
  body: Buffer,
  contentType: string | undefined,
  accept: string,
): Promise<{ body: Buffer; contentType: string }> {
  const latency = context.faults.modelLatencyMs;
  if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
  return knnAlgorithm.invoke(
    variant.model,
    body,
    contentType ?? 'application/octet-stream',
    accept,
    variant.featureDim,
  );
}

/** The container did not answer in time: the request fails (the container's work is abandoned). */
class InvocationTimeout extends Error {}

function withinTimeout<T>(answer: Promise<T>, timeoutMs: number, container: string): Promise<T> {
  answer.catch(() => undefined); // a late failure after the timeout must not go unhandled
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new InvocationTimeout(
            `Your invocation timed out while waiting for a response from container ${container}. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.`,
          ),
        ),
      timeoutMs,
    );
  });
  return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The response body has the same cap as the request (6 MB; 4 MB serverless). AWS does not document what a caller gets
 * when the container answers more: locally the container's answer counts as a server error, so the caller gets
 * ModelError (424) with OriginalStatusCode 500, as for any response the endpoint cannot pass on.
 */
function checkResponseSize(body: Buffer, limit: number): void {
  if (body.length > limit) {
    throw new Error(`Response body of ${body.length} bytes exceeds the ${limit}-byte InvokeEndpoint response limit`);
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
  // A timed-out invocation has no status from the container: AWS reports "server error (0)".
  const originalStatusCode = clientError
    ? knnAlgorithm.inferenceErrorStatus(error)
    : error instanceof InvocationTimeout
      ? 0
      : 500;
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
