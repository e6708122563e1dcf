#!/usr/bin/env node
// `npm run local`: the local cloud kept running (S3, SageMaker, Step Functions API and the stage's triggers), its
// endpoints written to a small state file so `knn-pipeline --local`, SDK clients and `aws --endpoint-url` find it.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { STAGE_ENV } from '../src/config/stage';
import { detectTrigger } from '../src/domain/runConfig';
import { LOCAL, LocalCloud, stateMachineArn, type LocalCloudOptions } from './cloud';
import { formatDuration, progressPrinter } from './progress';
import { QUOTA_HELP, parseQuotaFlag, type AccountQuotas } from './sagemaker/quotas';
import type { ExecutionRecord, HistoryEvent } from './stepfunctions/runner';

const PROJECT_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_LOCAL_DIRECTORY = path.join(PROJECT_ROOT, '.local-cloud');
export const ENDPOINTS_FILE_NAME = 'endpoints.json';
/** control = base, S3 = base + 1, SageMaker = base + 2, Step Functions = base + 3. */
export const DEFAULT_BASE_PORT = 4570;

/** The state file `npm run local` writes and `knn-pipeline --local` reads. */
export interface LocalEndpoints {
  version: 1;
  pid: number;
  startedAt: string;
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
  rawPrefix: string;
  runsPrefix: string;
  stateMachineArn: string;
  endpoints: { s3: string; sageMaker: string; stepFunctions: string; control: string };
  /** Where s3rver keeps the bucket's files, so people can open artifacts directly. */
  s3Directory: string;
}

export interface LocalServerOptions {
  directory: string;
  /** 0: any free ports (tests); otherwise four consecutive ports from here. */
  basePort?: number;
  endpointsFile?: string;
  params?: LocalCloudOptions['params'];
  sageMakerTiming?: LocalCloudOptions['sageMakerTiming'];
  sageMakerQuotas?: LocalCloudOptions['sageMakerQuotas'];
  stepFunctionsTiming?: LocalCloudOptions['stepFunctionsTiming'];
  /** IAM enforcement from serverless.yml (default on); false (`--no-iam`) to debug without it. */
  iam?: boolean;
  /** Server log: executions starting and ending, and their states; silent when left out. */
  log?: (line: string) => void;
}

export interface LocalServer {
  cloud: LocalCloud;
  endpoints: LocalEndpoints;
  endpointsFile: string;
  close(): Promise<void>;
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const basePort = options.basePort ?? DEFAULT_BASE_PORT;
  const port = (offset: number) => (basePort === 0 ? 0 : basePort + offset);
  const log = options.log;
  mkdirSync(options.directory, { recursive: true });
  const cloud = await LocalCloud.start({
    directory: options.directory,
    params: options.params,
    sageMakerTiming: options.sageMakerTiming,
    sageMakerQuotas: options.sageMakerQuotas,
    stepFunctionsTiming: options.stepFunctionsTiming,
    ports: { s3: port(1), sageMaker: port(2), stepFunctions: port(3) },
    onEvent: log ? executionLog(log) : undefined,
    iam: options.iam,
  });
  let control: ControlServer | undefined;
  try {
    // Idempotent: returns the API's endpoint whether or not LocalCloud.start already serves it.
    const stepFunctions = await cloud.startStepFunctionsApi(port(3));
    control = await startControlServer(cloud, port(0), log);
    const endpoints: LocalEndpoints = {
      version: 1,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      region: LOCAL.region,
      accountId: LOCAL.account,
      credentials: { accessKeyId: LOCAL.accessKeyId, secretAccessKey: LOCAL.secretAccessKey },
      bucket: LOCAL.bucket,
      rawPrefix: cloud.rawPrefix,
      runsPrefix: cloud.env[STAGE_ENV.runsPrefix] ?? 'runs/',
      stateMachineArn,
      endpoints: {
        s3: cloud.s3.endpoint,
        sageMaker: cloud.sageMaker.endpoint,
        stepFunctions,
        control: control.endpoint,
      },
      s3Directory: cloud.s3.directory,
    };
    const endpointsFile = options.endpointsFile ?? path.join(options.directory, ENDPOINTS_FILE_NAME);
    writeFileSync(endpointsFile, `${JSON.stringify(endpoints, null, 2)}\n`);
    const server = control;
    let closing: Promise<void> | undefined;
    return {
      cloud,
      endpoints,
      endpointsFile,
      close: () => {
        closing ??= (async () => {
          removeIfOurs(endpointsFile, endpoints.pid, endpoints.startedAt);
          await server.close();
          // Runs still going would keep calling a closed SageMaker; stop them as a shutdown would.
          for (const execution of cloud.stateMachine.executions.values())
            execution.stop('LocalCloudShutdown', 'npm run local stopped');
          await Promise.all([...cloud.stateMachine.executions.values()].map((e) => e.done.catch(() => undefined)));
          await cloud.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await control?.close();
    await cloud.close();
    throw error;
  }
}

function removeIfOurs(file: string, pid: number, startedAt: string): void {
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalEndpoints>;
    if (current.pid === pid && current.startedAt === startedAt) rmSync(file);
  } catch {
    // Already gone, or replaced by another `npm run local`: leave it.
  }
}

interface ControlServer {
  endpoint: string;
  close(): Promise<void>;
}

/** The local stand-in for EventBridge's schedule rule: `POST /_local/schedule` fires it now. */
async function startControlServer(
  cloud: LocalCloud,
  port: number,
  log?: (line: string) => void,
): Promise<ControlServer> {
  const reply = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body)}\n`);
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    const route = `${request.method} ${request.url?.split('?')[0]}`;
    if (route === 'POST /_local/schedule') {
      const execution = cloud.startExecution(cloud.scheduledEvent());
      log?.(`⏰ schedule fired on demand → ${execution.record.name}`);
      reply(response, 201, {
        executionArn: execution.record.executionArn,
        name: execution.record.name,
        startDate: execution.record.startDate.toISOString(),
      });
    } else if (route === 'GET /_local/health') {
      reply(response, 200, { ok: true, executions: cloud.stateMachine.executions.size });
    } else if (route === 'GET /_local/janitor') {
      reply(response, 200, cloud.janitorRuns);
    } else if (route === 'GET /_local/denials') {
      reply(response, 200, cloud.denials);
    } else {
      reply(response, 404, {
        message: `No route ${route}; try POST /_local/schedule, GET /_local/health, GET /_local/janitor or GET /_local/denials`,
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One line per execution start and end, and the states in between, each tagged with the execution's name. */
function executionLog(log: (line: string) => void) {
  const printers = new Map<string, ReturnType<typeof progressPrinter>>();
  return (record: ExecutionRecord, event: HistoryEvent) => {
    const tag = record.name.length > 24 ? `${record.name.slice(0, 23)}…` : record.name;
    if (event.type === 'ExecutionStarted') {
      log(`▶ ${record.name} started (${detectTrigger(record.input)} trigger)`);
      return;
    }
    if (['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimeout'].includes(event.type)) {
      printers.delete(record.executionArn);
      const took = formatDuration(event.timestamp - record.startDate.getTime());
      const outcome = event.type.replace('Execution', '').replace('Timeout', 'timed out').toUpperCase();
      const detail = event.Error ? `  ${event.Error}` : '';
      log(`${event.type === 'ExecutionSucceeded' ? '✔' : '✖'} ${record.name} ${outcome} in ${took}${detail}`);
      return;
    }
    let printer = printers.get(record.executionArn);
    if (!printer)
      printers.set(
        record.executionArn,
        (printer = progressPrinter((line) => log(`  [${tag}]${line.replace(/^ {2}/, ' ')}`))),
      );
    printer(event);
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65532)
    throw new InvalidArgumentError('must be 0 (any free ports) or a port up to 65532');
  return n;
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of milliseconds');
  return n;
}

export function program(): Command {
  return new Command('npm run local --')
    .description(
      'Keep the local cloud running — S3, SageMaker, the Step Functions API and the stage triggers — for `npx knn-pipeline --local`, SDK clients and `aws --endpoint-url`.',
    )
    .option('--dir <dir>', 'where the local cloud keeps its data and endpoints.json', DEFAULT_LOCAL_DIRECTORY)
    .option(
      '--base-port <port>',
      'control port; S3, SageMaker and Step Functions take the next three (0: any free ports)',
      port,
      DEFAULT_BASE_PORT,
    )
    .option('--training-start-delay <ms>', 'slow training down (time to try `knn-pipeline stop`)', milliseconds)
    .option('--quota <scope[:type]=n>', QUOTA_HELP, parseQuotaFlag)
    .option('--no-iam', 'IAM enforcement from serverless.yml (on by default); --no-iam to debug without it')
    .option('--quiet', 'do not log executions and their states')
    .addHelpText(
      'after',
      `
IAM enforcement from serverless.yml: every request is authorised against the role of whoever makes it (each function,
the state machine, SageMaker) and the bucket policy, and answered AccessDenied as AWS would; GET /_local/denials on the
control port lists the requests denied. --no-iam to debug without it.`,
    );
}

function usage(server: LocalServer): string {
  const e = server.endpoints.endpoints;
  const creds = `AWS_ACCESS_KEY_ID=${server.endpoints.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${server.endpoints.credentials.secretAccessKey} AWS_REGION=${server.endpoints.region}`;
  return [
    'Local cloud running',
    `  S3               ${e.s3}   (bucket ${server.endpoints.bucket}, files in ${server.endpoints.s3Directory})`,
    `  SageMaker        ${e.sageMaker}`,
    `  Step Functions   ${e.stepFunctions}   (${server.endpoints.stateMachineArn})`,
    `  Control          ${e.control}   (POST /_local/schedule fires the schedule, GET /_local/denials)`,
    `  IAM              ${server.cloud.authorizer ? 'enforced from serverless.yml (--no-iam to debug without it)' : 'off (--no-iam)'}`,
    `  Endpoints file   ${server.endpointsFile}`,
    '',
    'Triggers: an object put under raw/ starts a run (the EventBridge rule); the schedule fires on demand.',
    '',
    'From the terminal:',
    '  npx knn-pipeline start --local data/iris.csv --watch',
    '  npx knn-pipeline runs --local',
    '  npx knn-pipeline show --local <execution-name>',
    '  npx knn-pipeline schedule --local',
    '',
    'With the AWS CLI (any credentials work for Step Functions and SageMaker; S3 wants these):',
    `  ${creds} aws --endpoint-url ${e.s3} s3 cp data/iris.csv s3://${server.endpoints.bucket}/raw/iris.csv`,
    `  ${creds} aws --endpoint-url ${e.stepFunctions} stepfunctions list-executions --state-machine-arn ${server.endpoints.stateMachineArn}`,
    `  ${creds} aws --endpoint-url ${e.sageMaker} sagemaker list-training-jobs`,
    `  curl -X POST ${e.control}/_local/schedule`,
    '',
    'Ctrl-C stops everything.',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = program().parse(argv).opts<{
    dir: string;
    basePort: number;
    trainingStartDelay?: number;
    iam: boolean;
    quiet?: boolean;
    quota?: AccountQuotas;
  }>();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const server = await startLocalServer({
    directory: options.dir,
    basePort: options.basePort,
    sageMakerTiming:
      options.trainingStartDelay !== undefined ? { trainingStartDelayMs: options.trainingStartDelay } : undefined,
    sageMakerQuotas: options.quota,
    iam: options.iam,
    log: options.quiet ? undefined : log,
  });
  log(usage(server));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      process.stderr.write('Forced exit.\n');
      process.exit(130);
    }
    stopping = true;
    log(`\n${signal}: stopping the local cloud…`);
    server.close().then(
      () => {
        log('Local cloud stopped.');
        process.exit(0);
      },
      (error) => {
        process.stderr.write(`${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  main(process.argv).catch((error) => {
    const e = error as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(
        `✖ Port ${e.port} is taken — is another \`npm run local\` running? Pick other ports with --base-port (0: any free).\n`,
      );
    } else {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    }
    process.exit(2);
  });
}
