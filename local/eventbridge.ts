// Local EventBridge: PutEvents over the JSON 1.1 protocol; events are kept for people and tests to read.
import { randomUUID } from 'node:crypto';
import { listenOnLoopback } from './listen';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Authorizer } from './iam/authorizer';
import { accessKeyOfRequest, principalForAccessKey } from './iam/principals';

export interface PublishedEvent {
  id: string;
  time: string;
  eventBusName: string;
  source: string;
  detailType: string;
  detail: unknown;
}

export interface LocalEventBridge {
  endpoint: string;
  events: PublishedEvent[];
  onEvent(listener: (event: PublishedEvent) => void): void;
  close(): Promise<void>;
}

function reply(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export interface LocalEventBridgeOptions {
  port?: number;
  /** IAM enforcement (local/iam): events:PutEvents on each entry's bus, with events:source and events:detail-type. */
  authorizer?: Authorizer;
  region?: string;
  accountId?: string;
}

/** The bus ARN of an entry's EventBusName (a name or an ARN; the default bus when absent). */
function busArn(name: string | undefined, region: string, accountId: string): string {
  if (name?.startsWith('arn:')) return name;
  return `arn:aws:events:${region}:${accountId}:event-bus/${name ?? 'default'}`;
}

/**
 * IAM of a PutEvents call: every entry must be allowed (the request is refused as a whole otherwise). The entry's
 * source and detail-type are the multivalued condition keys events:source and events:detail-type.
 */
async function authorizePutEvents(
  options: LocalEventBridgeOptions & { authorizer: Authorizer },
  request: IncomingMessage,
  entries: Record<string, string>[],
): Promise<{ type: string; message: string } | undefined> {
  const accessKey = accessKeyOfRequest(request.headers, request.url);
  if (!accessKey) return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const principal = principalForAccessKey(accessKey);
  if (!principal) {
    return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  }
  for (const entry of entries) {
    const decision = await options.authorizer.authorize({
      principal,
      action: 'events:PutEvents',
      resource: busArn(entry.EventBusName, options.region ?? 'us-east-1', options.accountId ?? '000000000000'),
      context: {
        ...(entry.Source ? { 'events:source': [entry.Source] } : {}),
        ...(entry.DetailType ? { 'events:detail-type': [entry.DetailType] } : {}),
      },
    });
    if (!decision.allowed) return { type: 'AccessDeniedException', message: decision.message };
  }
  return undefined;
}

export async function startLocalEventBridge(options: LocalEventBridgeOptions = {}): Promise<LocalEventBridge> {
  const events: PublishedEvent[] = [];
  const listeners: ((event: PublishedEvent) => void)[] = [];
  const server = createServer(async (request, response) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target !== 'AWSEvents.PutEvents') {
      return reply(
        response,
        400,
        { __type: 'UnknownOperationException', message: `${target} is not supported locally` },
        'UnknownOperationException',
      );
    }
    let body: { Entries?: Record<string, string>[] };
    try {
      body = JSON.parse(await readBody(request));
    } catch {
      return reply(
        response,
        400,
        { __type: 'SerializationException', message: 'Malformed JSON' },
        'SerializationException',
      );
    }
    if (options.authorizer) {
      const denied = await authorizePutEvents(
        { ...options, authorizer: options.authorizer },
        request,
        body.Entries ?? [],
      );
      if (denied) return reply(response, 400, { __type: denied.type, message: denied.message }, denied.type);
    }
    const results = (body.Entries ?? []).map((entry) => {
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail ?? '{}');
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (!entry.Source || !entry.DetailType)
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source and DetailType are required.' };
      const event: PublishedEvent = {
        id: randomUUID(),
        time: new Date().toISOString(),
        eventBusName: entry.EventBusName ?? 'default',
        source: entry.Source,
        detailType: entry.DetailType,
        detail,
      };
      events.push(event);
      for (const listener of listeners) listener(event);
      return { EventId: event.id };
    });
    reply(response, 200, { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results });
  });
  const port = await listenOnLoopback(server, options.port);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    events,
    onEvent: (listener) => listeners.push(listener),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
