// Where the commands act: a deployed stage (standard AWS credentials) or the local cloud of `npm run local`.
// Either way the commands get the same SDK clients; only endpoints, credentials and names differ.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ListStateMachinesCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { LocalEndpoints } from '../../local/server';
import { CliError } from '../common/io';
import { timestampedName } from '../common/names';
import type { Target } from '../common/target';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
export const DEFAULT_ENDPOINTS_FILE = path.join(PROJECT_ROOT, '.local-cloud', 'endpoints.json');
const SERVICE = 'knn-pipeline';

export interface TargetOptions {
  local?: boolean;
  endpointsFile?: string;
  stage?: string;
  region?: string;
  stack?: string;
  stateMachineArn?: string;
  bucket?: string;
}

/** A target the commands open and close: the clients, plus the schedule rule to fire. */
export interface CommandTarget extends Target {
  /** Starts what the schedule rule starts (an execution with EventBridge's Scheduled Event as input). */
  fireSchedule(): Promise<{ executionArn: string }>;
  close(): void;
}

export async function resolveTarget(options: TargetOptions): Promise<CommandTarget> {
  if (options.local && (options.stage !== undefined || options.stack || options.stateMachineArn || options.bucket)) {
    throw new CliError(
      '--local talks to `npm run local`; leave out --stage, --stack, --state-machine-arn and --bucket',
    );
  }
  return options.local
    ? localTarget(options.endpointsFile ?? process.env.KNN_PIPELINE_ENDPOINTS_FILE ?? DEFAULT_ENDPOINTS_FILE)
    : stageTarget(options);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readEndpoints(file: string): LocalEndpoints {
  if (!existsSync(file)) {
    throw new CliError(`No local cloud is running (no ${file}). Start one in another terminal with \`npm run local\`.`);
  }
  const endpoints = JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints;
  if (endpoints.version !== 1)
    throw new CliError(`${file} was written by another version of \`npm run local\`; restart it`);
  if (!processIsAlive(endpoints.pid)) {
    throw new CliError(
      `The local cloud in ${file} (pid ${endpoints.pid}) is gone. Start it again with \`npm run local\`.`,
    );
  }
  return endpoints;
}

function localTarget(file: string): CommandTarget {
  const local = readEndpoints(file);
  const common = { region: local.region, credentials: local.credentials };
  const sfn = new SFNClient({ ...common, endpoint: local.endpoints.stepFunctions });
  const s3 = new S3Client({
    ...common,
    endpoint: local.endpoints.s3,
    forcePathStyle: true,
    // s3rver predates the SDK's default CRC checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const sageMaker = new SageMakerClient({ ...common, endpoint: local.endpoints.sageMaker });
  // The local SageMaker answers the runtime API (InvokeEndpoint) on the same endpoint.
  const sageMakerRuntime = new SageMakerRuntimeClient({ ...common, endpoint: local.endpoints.sageMaker });
  const defaultFile = path.resolve(file) === DEFAULT_ENDPOINTS_FILE;
  return {
    kind: 'local',
    description: `local cloud (${local.endpoints.stepFunctions})`,
    flags: defaultFile ? '--local' : `--local --endpoints-file ${file}`,
    region: local.region,
    stateMachineArn: local.stateMachineArn,
    bucket: local.bucket,
    rawPrefix: local.rawPrefix,
    runsPrefix: local.runsPrefix,
    sfn,
    s3,
    sageMaker,
    sageMakerRuntime,
    pollMs: 150,
    localPath: (key) => s3rverPath(local.s3Directory, local.bucket, key),
    fireSchedule: async () => {
      // The local cloud builds the event itself, as EventBridge does in AWS.
      const response = await fetch(`${local.endpoints.control}/_local/schedule`, { method: 'POST' });
      if (!response.ok)
        throw new CliError(
          `The local cloud refused to fire the schedule: HTTP ${response.status} ${await response.text()}`,
        );
      return (await response.json()) as { executionArn: string };
    },
    close: () => [sfn, s3, sageMaker, sageMakerRuntime].forEach((client) => client.destroy()),
  };
}

/** s3rver's file layout (objects as `<key>._S3rver_object`), so people can open an artifact directly. */
function s3rverPath(directory: string, bucket: string, key: string): string {
  if (key.endsWith('/')) return path.join(directory, bucket, key);
  const parts = key.split('/');
  const file = parts.pop()!;
  return path.join(directory, bucket, ...parts, `${file}._S3rver_object`);
}

async function stageTarget(options: TargetOptions): Promise<CommandTarget> {
  const stage = options.stage ?? 'dev';
  // serverless.yml deploys to us-east-1 unless told otherwise (`--region`), whatever AWS_REGION says.
  const region = options.region ?? 'us-east-1';
  const stackName = options.stack ?? `${SERVICE}-${stage}`;
  const sfn = new SFNClient({ region });
  const s3 = new S3Client({ region });
  const sageMaker = new SageMakerClient({ region });
  const sageMakerRuntime = new SageMakerRuntimeClient({ region });
  let stateMachineArn = options.stateMachineArn;
  let bucket = options.bucket;
  try {
    if (!stateMachineArn || !bucket) {
      const stack = await stackResources(region, stackName);
      stateMachineArn ??= stack.PipelineStateMachine;
      bucket ??= stack.DataBucket;
    }
    // Without CloudFormation access: the state machine by the name serverless.yml gives it. The bucket's name is
    // generated by CloudFormation (or pinned by the dataBucketName param), so it cannot be guessed.
    stateMachineArn ??= await stateMachineByName(sfn, `${SERVICE}-${stage}`);
    if (!bucket) {
      throw new CliError(
        `Cannot tell the data bucket of stack ${stackName}: pass --bucket (the stack's DataBucketName output), ` +
          'or allow cloudformation:DescribeStackResources on the stack.',
      );
    }
  } catch (error) {
    [sfn, s3, sageMaker, sageMakerRuntime].forEach((client) => client.destroy());
    throw error;
  }
  const given: [string, string | undefined][] = [
    ['--region', region === 'us-east-1' ? undefined : region],
    ['--stack', options.stack],
    ['--state-machine-arn', options.stateMachineArn],
    ['--bucket', options.bucket],
  ];
  const extraFlags = given.flatMap(([flag, value]) => (value ? [` ${flag} ${value}`] : [])).join('');
  return {
    kind: 'stage',
    description: `stage ${stage} in ${region}`,
    flags: `--stage ${stage}${extraFlags}`,
    region,
    stateMachineArn,
    bucket,
    rawPrefix: 'raw/',
    runsPrefix: 'runs/',
    sfn,
    s3,
    sageMaker,
    sageMakerRuntime,
    pollMs: 3000,
    fireSchedule: async () => {
      const [, , , , account] = stateMachineArn.split(':');
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account,
        time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        region,
        resources: [],
        detail: {},
      };
      const started = await sfn.send(
        new StartExecutionCommand({ stateMachineArn, name: timestampedName('schedule'), input: JSON.stringify(event) }),
      );
      return { executionArn: started.executionArn! };
    },
    close: () => [sfn, s3, sageMaker, sageMakerRuntime].forEach((client) => client.destroy()),
  };
}

/** Logical id → physical id of the stack's resources; empty when the stack can't be read (no access, other name). */
async function stackResources(region: string, stackName: string): Promise<Record<string, string | undefined>> {
  const cloudFormation = new CloudFormationClient({ region });
  try {
    const { StackResources = [] } = await cloudFormation.send(
      new DescribeStackResourcesCommand({ StackName: stackName }),
    );
    return Object.fromEntries(StackResources.map((r) => [r.LogicalResourceId!, r.PhysicalResourceId]));
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'ValidationError' || name === 'AccessDenied' || name === 'AccessDeniedException') return {};
    throw error;
  } finally {
    cloudFormation.destroy();
  }
}

async function stateMachineByName(sfn: SFNClient, name: string): Promise<string> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken }));
    const match = page.stateMachines?.find((machine) => machine.name === name);
    if (match) return match.stateMachineArn!;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new CliError(
    `No state machine named ${name}: is the stage deployed (npm run deploy -- --stage …) in this region?`,
  );
}
