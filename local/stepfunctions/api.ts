// The Step Functions API (JSON 1.0 over HTTP on 127.0.0.1) for the local state machine, so @aws-sdk/client-sfn, the
// AWS CLI (`--endpoint-url`) and `knn-pipeline --local` talk to the local cloud exactly as they talk to AWS.
import { randomUUID } from 'node:crypto';
import { listenOnLoopback } from '../listen';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ExecutionRecord, ExecutionStatus, LocalExecution, LocalStateMachine } from './runner';
import { checkExecutionInput, checkExecutionName, StartExecutionError } from './runner';
import { apiHistory, taskResources, type ApiHistoryEvent } from './history';
import type { AslDefinition } from '../../statemachine/definition';
import type { Authorizer } from '../iam/authorizer';
import { accessKeyOfRequest, principalForAccessKey } from '../iam/principals';

export interface StepFunctionsApiOptions {
  stateMachine: LocalStateMachine;
  stateMachineArn: string;
  definition: AslDefinition;
  roleArn: string;
  /** How an execution starts; LocalCloud passes its own so API-started runs get the same wiring as the others. */
  startExecution?: (input: unknown, name: string) => LocalExecution;
  port?: number;
  /** IAM enforcement (local/iam): states:<Operation> on the state machine or execution ARN for the caller's key. */
  authorizer?: Authorizer;
}

export interface LocalStepFunctionsApi {
  endpoint: string;
  close(): Promise<void>;
}

/** A service error: `type` becomes `__type`, which the SDK turns into `err.name`. */
export class StepFunctionsApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = type;
  }
}

type Body = Record<string, unknown>;
type Operation = (body: Body) => unknown;

const EXECUTION_STATUSES: ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;

const epochSeconds = (date: Date) => date.getTime() / 1000;

export async function startStepFunctionsApi(options: StepFunctionsApiOptions): Promise<LocalStepFunctionsApi> {
  const operations = stepFunctionsOperations(options);
  const server = createServer((request, response) => {
    handle(operations, request, response, options.authorizer).catch((error) => {
      send(response, 500, { __type: 'InternalFailure', message: String(error) });
    });
  });
  const port = await listenOnLoopback(server, options.port);
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // SDK keep-alive sockets would otherwise hold close() open
      });
      return closing;
    },
  };
}

/**
 * IAM: the caller from its SigV4 key, states:<Operation> on the execution ARN (execution operations), the state
 * machine ARN (StartExecution, DescribeStateMachine, ListExecutions) or "*" (ListStateMachines).
 */
async function authorize(
  authorizer: Authorizer,
  request: IncomingMessage,
  operationName: string,
  body: Body,
): Promise<void> {
  const accessKey = accessKeyOfRequest(request.headers, request.url);
  if (!accessKey)
    throw new StepFunctionsApiError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  const principal = principalForAccessKey(accessKey);
  if (!principal) {
    throw new StepFunctionsApiError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  // The ARN the operation acts on: a request cannot have another field authorised than the one it uses.
  const arn = STATE_MACHINE_OPERATIONS.has(operationName) ? body.stateMachineArn : body.executionArn;
  // A malformed ARN is answered InvalidArn by the operation's own validation, as the service does.
  if (arn !== undefined && !(typeof arn === 'string' && (EXECUTION_ARN.test(arn) || STATE_MACHINE_ARN.test(arn))))
    return;
  const decision = await authorizer.authorize({
    principal,
    action: `states:${operationName}`,
    resource: typeof arn === 'string' ? arn : '*',
  });
  if (!decision.allowed) throw new StepFunctionsApiError('AccessDeniedException', decision.message);
}

const STATE_MACHINE_OPERATIONS = new Set(['StartExecution', 'DescribeStateMachine', 'ListExecutions']);

async function handle(
  operations: Record<string, Operation>,
  request: IncomingMessage,
  response: ServerResponse,
  authorizer?: Authorizer,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const target = String(request.headers['x-amz-target'] ?? '');
  const operation = target.startsWith('AWSStepFunctions.')
    ? operations[target.slice('AWSStepFunctions.'.length)]
    : undefined;
  try {
    if (request.method !== 'POST' || !operation) {
      throw new StepFunctionsApiError(
        'UnknownOperationException',
        `Unknown operation ${target || `${request.method} ${request.url}`}`,
      );
    }
    let body: Body;
    try {
      body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body) : {};
    } catch {
      throw new StepFunctionsApiError('SerializationException', 'The request body is not valid JSON');
    }
    if (authorizer) await authorize(authorizer, request, target.slice('AWSStepFunctions.'.length), body ?? {});
    send(response, 200, operation(body ?? {}));
  } catch (error) {
    if (!(error instanceof StepFunctionsApiError)) throw error;
    send(response, error.statusCode, { __type: error.type, message: error.message });
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? {});
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(text);
}

/** The name rule and the input length limit, shared with the local cloud's own start path (runner.ts). */
function checkStartLimits(name: string, inputText: string): void {
  try {
    checkExecutionName(name);
    checkExecutionInput(inputText);
  } catch (error) {
    if (error instanceof StartExecutionError) throw new StepFunctionsApiError(error.name, error.message);
    throw error;
  }
}

function required(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new StepFunctionsApiError(
      'ValidationException',
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function maxResults(body: Body): number {
  const value = body.maxResults ?? 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1000) {
    throw new StepFunctionsApiError(
      'ValidationException',
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
    );
  }
  return value === 0 ? 100 : value;
}

/** Opaque paging tokens: where the next page starts, plus what the first page saw (a growing list stays stable). */
interface PageToken {
  offset: number;
  size: number;
}

function readToken(body: Body): PageToken | undefined {
  if (body.nextToken === undefined || body.nextToken === null) return undefined;
  try {
    const token = JSON.parse(Buffer.from(String(body.nextToken), 'base64url').toString('utf8')) as PageToken;
    if (Number.isInteger(token.offset) && Number.isInteger(token.size)) return token;
  } catch {
    // Reported below, as the service does.
  }
  throw new StepFunctionsApiError('InvalidToken', `Invalid Token: '${String(body.nextToken)}'`);
}

function page<T>(items: T[], body: Body, key: string): Record<string, unknown> {
  const token = readToken(body);
  const size = token?.size ?? items.length;
  const offset = token?.offset ?? 0;
  const limit = maxResults(body);
  const slice = items.slice(offset, Math.min(offset + limit, size));
  const next =
    offset + slice.length < size
      ? Buffer.from(JSON.stringify({ offset: offset + slice.length, size })).toString('base64url')
      : undefined;
  return { [key]: slice, ...(next ? { nextToken: next } : {}) };
}

function wireEvent(event: ApiHistoryEvent): Record<string, unknown> {
  return { ...event, timestamp: epochSeconds(event.timestamp) };
}

export function stepFunctionsOperations(options: StepFunctionsApiOptions): Record<string, Operation> {
  const { stateMachine, stateMachineArn } = options;
  const stateMachineName = stateMachineArn.split(':').pop()!;
  const creationDate = new Date();
  const resources = taskResources(options.definition);
  const start = options.startExecution ?? ((input: unknown, name: string) => stateMachine.start(input, name));

  const checkStateMachine = (arn: string) => {
    if (!STATE_MACHINE_ARN.test(arn)) throw new StepFunctionsApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    if (arn !== stateMachineArn)
      throw new StepFunctionsApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
  };
  const findExecution = (arn: string): LocalExecution => {
    if (!EXECUTION_ARN.test(arn)) throw new StepFunctionsApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const execution = stateMachine.executions.get(arn);
    if (!execution) throw new StepFunctionsApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  };
  const newestFirst = () =>
    [...stateMachine.executions.values()]
      .map((e) => e.record)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
  const listItem = (record: ExecutionRecord) => ({
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: epochSeconds(record.startDate),
    ...(record.stopDate ? { stopDate: epochSeconds(record.stopDate) } : {}),
  });

  return {
    StartExecution(body) {
      checkStateMachine(required(body, 'stateMachineArn'));
      const name = body.name === undefined ? randomUUID() : String(body.name);
      const inputText = body.input === undefined ? '{}' : String(body.input);
      checkStartLimits(name, inputText);
      let input: unknown;
      try {
        input = JSON.parse(inputText);
      } catch (error) {
        throw new StepFunctionsApiError(
          'InvalidExecutionInput',
          `Invalid State Machine Execution Input: '${(error as Error).message}'`,
        );
      }
      const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      const existing = stateMachine.executions.get(executionArn)?.record;
      if (existing) {
        // The service is idempotent for a running execution started again with the same input.
        if (existing.status === 'RUNNING' && JSON.stringify(existing.input) === JSON.stringify(input)) {
          return { executionArn, startDate: epochSeconds(existing.startDate) };
        }
        throw new StepFunctionsApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      }
      const { record } = start(input, name);
      return { executionArn: record.executionArn, startDate: epochSeconds(record.startDate) };
    },

    DescribeExecution(body) {
      const { record } = findExecution(required(body, 'executionArn'));
      return {
        ...listItem(record),
        input: JSON.stringify(record.input ?? null),
        inputDetails: { included: true },
        ...(record.status === 'SUCCEEDED'
          ? { output: JSON.stringify(record.output ?? null), outputDetails: { included: true } }
          : {}),
        ...(record.error !== undefined ? { error: record.error } : {}),
        ...(record.cause !== undefined ? { cause: record.cause } : {}),
        redriveCount: 0,
        redriveStatus: 'NOT_REDRIVABLE',
      };
    },

    GetExecutionHistory(body) {
      const { record } = findExecution(required(body, 'executionArn'));
      const events = apiHistory(record, {
        taskResources: resources,
        roleArn: options.roleArn,
        region: stateMachineArn.split(':')[3],
        includeExecutionData: body.includeExecutionData !== false,
      });
      if (body.reverseOrder === true) events.reverse();
      return page(events.map(wireEvent), body, 'events');
    },

    ListExecutions(body) {
      checkStateMachine(required(body, 'stateMachineArn'));
      const filter = body.statusFilter;
      if (filter !== undefined && !EXECUTION_STATUSES.includes(filter as ExecutionStatus)) {
        throw new StepFunctionsApiError(
          'ValidationException',
          `1 validation error detected: Value '${String(filter)}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(', ')}]`,
        );
      }
      const records = newestFirst().filter((record) => filter === undefined || record.status === filter);
      return page(records.map(listItem), body, 'executions');
    },

    StopExecution(body) {
      const execution = findExecution(required(body, 'executionArn'));
      const error = body.error === undefined ? undefined : String(body.error);
      const cause = body.cause === undefined ? undefined : String(body.cause);
      if ((error?.length ?? 0) > 256 || (cause?.length ?? 0) > 32768) {
        throw new StepFunctionsApiError(
          'ValidationException',
          'error must be at most 256 and cause at most 32768 characters',
        );
      }
      execution.stop(error, cause);
      // The run ends asynchronously; the service reports the stop time at once.
      return { stopDate: epochSeconds(execution.record.stopDate ?? new Date()) };
    },

    DescribeStateMachine(body) {
      checkStateMachine(required(body, 'stateMachineArn'));
      return {
        stateMachineArn,
        name: stateMachineName,
        status: 'ACTIVE',
        definition: JSON.stringify(options.definition, null, 2),
        roleArn: options.roleArn,
        type: 'STANDARD',
        creationDate: epochSeconds(creationDate),
        loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      };
    },

    ListStateMachines(body) {
      const machines = [
        { stateMachineArn, name: stateMachineName, type: 'STANDARD', creationDate: epochSeconds(creationDate) },
      ];
      return page(machines, body, 'stateMachines');
    },
  };
}
