// Request routing for both wire protocols: JSON 1.1 control plane (POST /) and rest-json runtime.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Json, LocalSageMakerContext } from './context';
import { runControlPlaneOperation } from './controlPlane';
import { SageMakerApiError } from './errors';
import { authorizeControlPlane, authorizeInvocation } from './iam';
import { invokeEndpoint, MAX_INVOCATION_PAYLOAD_BYTES } from './runtime';

const MAX_CONTROL_PLANE_BODY_BYTES = 16 * 1024 * 1024;
const INVOCATIONS_PATH = /^\/endpoints\/([^/]+)\/invocations\/?$/;

export function createRequestHandler(
  context: LocalSageMakerContext,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handleRequest(context, request, response).catch((error: unknown) => {
      // Last resort: the server answers every request and never crashes
      if (!response.headersSent)
        sendJson(response, 500, { __type: 'InternalFailure', message: describe(error) }, 'InternalFailure');
      else response.destroy();
    });
  };
}

async function handleRequest(
  context: LocalSageMakerContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  const invocation = INVOCATIONS_PATH.exec(path);
  if (request.method === 'POST' && invocation)
    return handleInvocation(context, request, response, decodePathSegment(invocation[1]));
  const target = headerValue(request, 'x-amz-target');
  if (request.method === 'POST' && (path === '/' || path === '') && target !== undefined)
    return handleControlPlane(context, request, response, target);
  await readBody(request, 0); // drain so keep-alive connections stay usable
  sendJson(
    response,
    404,
    { __type: 'UnknownOperationException', message: `No operation at ${request.method} ${path}` },
    'UnknownOperationException',
  );
}

async function handleControlPlane(
  context: LocalSageMakerContext,
  request: IncomingMessage,
  response: ServerResponse,
  target: string,
): Promise<void> {
  const { body } = await readBody(request, MAX_CONTROL_PLANE_BODY_BYTES);
  try {
    if (!target.startsWith('SageMaker.'))
      throw new SageMakerApiError('UnknownOperationException', `Unknown target ${target}`);
    const operation = target.slice('SageMaker.'.length);
    const input = parseJsonObject(body);
    await authorizeControlPlane(context, request.headers, request.url, operation, input);
    await delay(context.faults.delayFor(operation));
    const fault = context.faults.takeFault(operation, input);
    if (fault) throw fault;
    sendJson(response, 200, runControlPlaneOperation(context, operation, input));
  } catch (error) {
    const apiError = toApiError(error);
    sendJson(
      response,
      apiError.statusCode,
      { __type: apiError.errorName, message: apiError.message, ...apiError.extraBody },
      apiError.errorName,
    );
  }
}

async function handleInvocation(
  context: LocalSageMakerContext,
  request: IncomingMessage,
  response: ServerResponse,
  endpointName: string,
): Promise<void> {
  const { body, length } = await readBody(request, MAX_INVOCATION_PAYLOAD_BYTES);
  const requestId = randomUUID();
  try {
    await authorizeInvocation(context, request.headers, request.url, endpointName);
    const invocation = {
      endpointName,
      body,
      bodyLength: length,
      contentType: headerValue(request, 'content-type'),
      accept: headerValue(request, 'accept'),
      targetVariant: headerValue(request, 'x-amzn-sagemaker-target-variant'),
      requestId,
    };
    await delay(context.faults.delayFor('InvokeEndpoint'));
    const fault = context.faults.takeFault('InvokeEndpoint', {
      EndpointName: endpointName,
      Body: body,
      ContentType: invocation.contentType,
      Accept: invocation.accept,
    });
    if (fault) throw fault;
    const result = await invokeEndpoint(context, invocation);
    response.writeHead(200, {
      'Content-Type': result.contentType,
      'Content-Length': result.body.length,
      'x-Amzn-Invoked-Production-Variant': result.variantName,
      'x-amzn-RequestId': requestId,
    });
    response.end(result.body);
  } catch (error) {
    const apiError = toApiError(error);
    sendJson(
      response,
      apiError.statusCode,
      { Message: apiError.message, message: apiError.message, ...apiError.extraBody },
      apiError.errorName,
      'application/json',
      requestId,
    );
  }
}

function toApiError(error: unknown): SageMakerApiError {
  return error instanceof SageMakerApiError ? error : new SageMakerApiError('InternalFailure', describe(error), 500);
}

function parseJsonObject(body: Buffer): Json {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new SageMakerApiError('SerializationException', 'Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SageMakerApiError('SerializationException', 'Request body must be a JSON object');
  }
  return parsed as Json;
}

/** Reads the whole body but keeps at most `limit` bytes; `length` is the full size sent. */
function readBody(request: IncomingMessage, limit: number): Promise<{ body: Buffer; length: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) chunks.push(chunk);
    });
    request.on('end', () => resolve({ body: Buffer.concat(chunks), length }));
    request.on('error', reject);
  });
}

function sendJson(
  response: ServerResponse,
  statusCode: number,
  body: unknown,
  errorName?: string,
  contentType = 'application/x-amz-json-1.1',
  requestId = randomUUID(),
): void {
  const payload = Buffer.from(JSON.stringify(body));
  response.writeHead(statusCode, {
    'Content-Type': contentType,
    'Content-Length': payload.length,
    'x-amzn-RequestId': requestId,
    ...(errorName ? { 'x-amzn-ErrorType': errorName } : {}),
  });
  response.end(payload);
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
