import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { handler, type ReportEvent } from '../../functions/report';
import type { Metrics } from '../../src/artifacts';
import { resetClients } from '../../src/aws/clients';
import { handlerEvent, putInputs, serveObjects, setStageEnv } from '../support/lambda';
import { exampleArtifacts, exampleCsvFiles } from '../unit/artifacts/examples';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const BUCKET = 'knn-pipeline-dev-data';
const ROOT = 'runs/iris-report-0001';
const REPORT_KEY = `${ROOT}/evaluation/report.html`;

let event: ReportEvent;

/** The run's files in the bucket, as Prepare, Split, Evaluate and Promote wrote them. */
function storeRun(metrics: Metrics = exampleArtifacts().metrics): void {
  const { manifest, split, serving } = exampleArtifacts();
  const { predictionsCsv, preparedFeaturesCsv, preparedLabels } = exampleCsvFiles();
  serveObjects(s3, {
    [`${ROOT}/prepared/manifest.json`]: JSON.stringify(manifest),
    [`${ROOT}/evaluation/metrics.json`]: JSON.stringify(metrics),
    [`${ROOT}/evaluation/predictions.csv`]: predictionsCsv,
    [`${ROOT}/prepared/features.csv`]: preparedFeaturesCsv,
    [`${ROOT}/prepared/labels.f64`]: preparedLabels,
    [`${ROOT}/prepared/split.json`]: JSON.stringify(split),
    [`${ROOT}/serving.json`]: JSON.stringify({ ...serving, message: 'Serving-outcome-from-serving.json' }),
  });
}

/** History of an execution now in its Report state: three states done, one a 61-second CreateEndpoint wait. */
function history(): HistoryEvent[] {
  let id = 0;
  const at = (seconds: number) => new Date(Date.UTC(2026, 10, 29, 17, 0, seconds));
  const state = (name: string, from: number, to?: number): HistoryEvent[] => [
    { id: ++id, type: 'TaskStateEntered' as const, timestamp: at(from), stateEnteredEventDetails: { name } },
    ...(to === undefined
      ? []
      : [{ id: ++id, type: 'TaskStateExited' as const, timestamp: at(to), stateExitedEventDetails: { name } }]),
  ];
  return [
    { id: ++id, type: 'ExecutionStarted' as const, timestamp: at(0) },
    ...state('Prepare', 0, 1),
    ...state('CreateEndpoint', 1, 62),
    ...state('CleanUp', 62, 64),
    ...state('Report', 64),
  ];
}

/** What a reader sees of the page: no scripts, styles, charts or tags. */
function visibleText(html: string): string {
  return html
    .replace(/<(script|style|svg)\b.*?<\/\1>/gs, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
}

function keysRead(): string[] {
  return s3.commandCalls(GetObjectCommand).map((call) => String(call.args[0].input.Key));
}

beforeEach(() => {
  s3.reset();
  sfn.reset();
  resetClients();
  setStageEnv();
  event = handlerEvent<ReportEvent>('report');
  s3.on(PutObjectCommand).resolves({});
});

test('renders report.html from the run’s artifacts and execution path and writes it beside metrics.json', async () => {
  storeRun();
  sfn.on(GetExecutionHistoryCommand).resolves({ events: history() });

  const result = await handler(event);

  // The JSON artifacts first; then predictions.csv and the prepared dataset, streamed side by side, and serving.json.
  expect(keysRead()).toEqual([
    `${ROOT}/prepared/manifest.json`,
    `${ROOT}/evaluation/metrics.json`,
    `${ROOT}/prepared/split.json`,
    `${ROOT}/evaluation/predictions.csv`,
    `${ROOT}/prepared/features.csv`,
    `${ROOT}/prepared/labels.f64`,
    `${ROOT}/serving.json`,
  ]);
  expect(s3.commandCalls(GetObjectCommand).every((call) => call.args[0].input.Bucket === BUCKET)).toBe(true);
  expect(sfn.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input)).toEqual([
    { executionArn: event.executionArn, maxResults: 1000 },
  ]);
  const [put] = putInputs(s3);
  expect(putInputs(s3)).toHaveLength(1);
  expect({ ...put, Body: undefined }).toEqual({
    Bucket: BUCKET,
    Key: REPORT_KEY,
    ContentType: 'text/html; charset=utf-8',
  });
  const html = String(put.Body);
  expect(result).toEqual({ reportUri: `s3://${BUCKET}/${REPORT_KEY}`, bytes: Buffer.byteLength(html) });
  expect(html).toMatch(/^<!doctype html>/i);
  const text = visibleText(html);
  expect(text).toContain('k-NN run run-1');
  expect(text).toContain('promoted Serving-outcome-from-serving.json');
  // The path is the states before Report (still running); the endpoint lived from CreateEndpoint to CleanUp's end.
  expect(text).toContain(
    'All 3 state visits in order # state status duration error ' +
      '1 Prepare succeeded 1.00 s 2 CreateEndpoint succeeded 61.0 s 3 CleanUp succeeded 2.00 s',
  );
  expect(text).toContain('endpoint (lifetime) ml.m5.large 1 63 s');
});

test('serving mode off: serving.json is not read and the report has no serving outcome', async () => {
  const metrics = exampleArtifacts().metrics;
  storeRun({ ...metrics, promotion: { ...metrics.promotion, decision: 'off' } });
  sfn.on(GetExecutionHistoryCommand).resolves({ events: history() });

  await handler(event);

  expect(keysRead()).not.toContain(`${ROOT}/serving.json`);
  const text = visibleText(String(putInputs(s3)[0].Body));
  expect(text).toContain('k-NN run run-1');
  expect(text).not.toContain('Serving-outcome-from-serving.json');
});

test('without execution history (access denied) the report is still written, without the execution path', async () => {
  storeRun();
  sfn
    .on(GetExecutionHistoryCommand)
    .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

  const result = await handler(event);

  const text = visibleText(String(putInputs(s3)[0].Body));
  expect(result.reportUri).toBe(`s3://${BUCKET}/${REPORT_KEY}`);
  expect(text).toContain('k-NN run run-1');
  expect(text).not.toContain('CreateEndpoint');
});

test('a missing metrics.json fails the report with S3 NoSuchKey and writes nothing', async () => {
  storeRun();
  s3.on(GetObjectCommand, { Key: `${ROOT}/evaluation/metrics.json` }).rejects(
    Object.assign(new Error('The specified key does not exist.'), {
      name: 'NoSuchKey',
      $metadata: { httpStatusCode: 404 },
    }),
  );

  await expect(handler(event)).rejects.toMatchObject({ name: 'NoSuchKey' });
  expect(putInputs(s3)).toHaveLength(0);
  expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
});
