// Local EventBridge: PutEvents over the JSON 1.1 protocol; events are kept for people and tests to read.
import { randomUUID } from 'node:crypto';
import { listenOnLoopback } from './listen';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

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

export async function startLocalEventBridge(options: { port?: number } = {}): Promise<LocalEventBridge> {
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
