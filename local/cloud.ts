import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { EventBridgeEvent } from 'aws-lambda';
import type { ExecutionStatusChange } from '../functions/janitor';
import { STAGE_ENV } from '../src/config/stage';
import { resetClients } from '../src/aws/clients';
import { logger } from '../src/log/logger';
import { startLocalEventBridge, type LocalEventBridge } from './eventbridge';
import { startLocalS3, type LocalS3, type LocalS3ObjectCreatedEvent } from './s3';
import { startLocalSageMaker, type AccountQuotas, type LocalSageMaker } from './sagemaker';
import { loadDefinition, type AslDefinition } from '../statemachine/definition';
import {
  LocalStateMachine,
  type ExecutionRecord,
  type HistoryEvent,
  type LocalExecution,
} from './stepfunctions/runner';
import { startStepFunctionsApi, type LocalStepFunctionsApi } from './stepfunctions/api';
import { functionInvokers, functionName, JANITOR_FUNCTION, localLambdas, PIPELINE_FUNCTIONS } from './functions';
import { serverlessFunctions, type FunctionLimits } from './lambda/config';
import { LambdaInvoker } from './lambda/invoker';
import type { InvocationReport } from './lambda/report';
import type { LambdaInvoke } from './stepfunctions/integrations';
import { Authorizer, type Denial } from './iam/authorizer';
import { credentialEnvironment, credentialsFor, functionPrincipal, principal } from './iam/principals';
import { withInvokePermission } from './iam/lambdaInvoke';
import { loadPolicies, type ResolvedPolicies } from './iam/template';

export const LOCAL = {
  region: 'us-east-1',
  account: '000000000000',
  service: 'knn-pipeline',
  stage: 'local',
  bucket: 'knn-pipeline-local-data',
  namePrefix: 'knnp-local',
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
} as const;

export type StageParams = Partial<Record<keyof typeof STAGE_ENV, string>>;

export interface LocalCloudOptions {
  /** Where the local S3 keeps its objects and the local SageMaker its logs. */
  directory: string;
  /** Stage parameters, as `serverless.yml` params would set them for a deployed stage. */
  params?: StageParams;
  sageMakerTiming?: Record<string, number>;
  /** The local SageMaker's quotas: instances per type for training jobs, endpoints, transform jobs; none by default. */
  sageMakerQuotas?: AccountQuotas;
  /** Fixed ports for a long-running local cloud (`npm run local`); any free port when left out. */
  ports?: { s3?: number; sageMaker?: number; stepFunctions?: number };
  stepFunctionsTiming?: { waitMs?: number; retryMs?: number; syncPollMs?: number };
  onEvent?: (execution: ExecutionRecord, event: HistoryEvent) => void;
  /** Deploy without the S3 upload rule (uploads under raw/ then start nothing). */
  s3Trigger?: boolean;
  /** Fault injection: a shorter execution timeout than the definition's TimeoutSeconds. */
  executionTimeoutSeconds?: number;
  /** The handlers' structured JSON logs (CloudWatch in AWS); silent by default so the CLI output stays readable. */
  lambdaLogLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /**
   * Run each invocation isolated, as Lambda does (default): in a warm worker thread of its function with the
   * function's memorySize (heap limit) and timeout from serverless.yml, its own environment and credentials, the 6 MB
   * payload quotas. false runs the handlers inside this process with no limits (for a debugger).
   */
  lambdaIsolation?: boolean;
  /** Start one sandbox of each function while the cloud comes up, so first invocations find them warm (default). */
  prewarmFunctions?: boolean;
  /**
   * Hears the report of every isolated invocation as it ends (Lambda's REPORT line: duration, peak memory); the
   * cloud also keeps the latest ones in `lambdaReports`.
   */
  onLambdaReport?: (report: InvocationReport) => void;
  /** Test-only overrides of serverless.yml's limits by function key, e.g. `{ evaluate: { timeout: 1 } }`. */
  functionLimits?: Record<string, Partial<FunctionLimits>>;
  /**
   * IAM enforcement (local/iam): every request is authorised against the template's policies, with the principal its
   * access key names, and denials are kept in `denials`. On by default; false grants everything (for debugging).
   */
  iam?: boolean;
  /**
   * Test-only: enforce these already-resolved policies instead of the project's template (e.g. a copy of the
   * template loaded with `loadPolicies({ projectDir })`, or `withoutPermission(...)` of the real one). Ignored with
   * `iam: false`.
   */
  policies?: ResolvedPolicies;
}

/** How many invocation reports `LocalCloud.lambdaReports` keeps (the oldest are dropped). */
const KEPT_LAMBDA_REPORTS = 1000;

export interface JanitorRun {
  executionName: string;
  result: unknown;
}

/** A function's deployed name in the local stage: knn-pipeline-local-<key>. */
function deployedFunctionName(key: string): string {
  return functionName(LOCAL.service, LOCAL.stage, key);
}

export const stateMachineArn = `arn:aws:states:${LOCAL.region}:${LOCAL.account}:stateMachine:${LOCAL.service}-${LOCAL.stage}`;

/** The Lambda environment of a local "deployment": the stage defaults plus the parameters given. */
export function localEnvironment(params: StageParams = {}): Record<string, string> {
  const env: Record<string, string> = {
    [STAGE_ENV.dataBucket]: LOCAL.bucket,
    [STAGE_ENV.namePrefix]: LOCAL.namePrefix,
    [STAGE_ENV.knnImage]: `382416733822.dkr.ecr.${LOCAL.region}.amazonaws.com/knn:1`,
    // The SageMaker execution role as CloudFormation names it (GetAtt SageMakerExecutionRole.Arn).
    [STAGE_ENV.sageMakerRoleArn]: principal('sageMaker').arn,
    CLEANUP_POLL_MS: '50',
  };
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) env[STAGE_ENV[name as keyof typeof STAGE_ENV]] = value;
  }
  return env;
}

/**
 * The embedded cloud: local S3, local SageMaker (control plane + runtime) and the local Step Functions
 * interpreter running statemachine/ unchanged, wired like the deployed stage — an object put under raw/
 * starts an execution with the S3 Object Created event, and every finished execution runs the janitor (cleanup after a
 * failure, stop or timeout; the run-outcome notification).
 */
export class LocalCloud {
  readonly janitorRuns: JanitorRun[] = [];
  /** The reports of the latest isolated invocations, oldest first (none with lambdaIsolation false). */
  readonly lambdaReports: InvocationReport[] = [];
  private readonly startedListeners: ((
    execution: LocalExecution,
    trigger: LocalS3ObjectCreatedEvent | undefined,
  ) => void)[] = [];
  private savedEnv: Record<string, string | undefined> = {};
  stateMachine!: LocalStateMachine;
  /** The definition the local state machine runs (placeholders filled in), for the Step Functions API. */
  definition!: AslDefinition;
  sageMakerClient!: SageMakerClient;
  private stepFunctionsApi?: LocalStepFunctionsApi;
  /** The local Lambda service (undefined with lambdaIsolation false). */
  lambda?: LambdaInvoker;
  /** How each function (by serverless.yml key) is invoked. */
  private invokers: Record<string, LambdaInvoke> = {};
  /** The IAM evaluator of this cloud; undefined when enforcement is off (`iam: false`). */
  authorizer?: Authorizer;

  private constructor(
    readonly s3: LocalS3,
    readonly sageMaker: LocalSageMaker,
    readonly eventBridge: LocalEventBridge,
    readonly env: Record<string, string>,
  ) {}

  static async start(options: LocalCloudOptions): Promise<LocalCloud> {
    const authorizer =
      options.iam === false
        ? undefined
        : new Authorizer(options.policies ?? (await loadPolicies({ params: options.params })));
    const s3 = await startLocalS3({
      directory: path.join(options.directory, 's3'),
      buckets: [LOCAL.bucket],
      port: options.ports?.s3,
      authorizer,
    });
    const sageMaker = await startLocalSageMaker({
      port: options.ports?.sageMaker,
      s3Endpoint: s3.endpoint,
      authorizer,
      region: LOCAL.region,
      accountId: LOCAL.account,
      timing: options.sageMakerTiming,
      quotas: options.sageMakerQuotas,
      logDirectory: path.join(options.directory, 'logs'),
    });
    const eventBridge = await startLocalEventBridge({ authorizer, region: LOCAL.region, accountId: LOCAL.account });
    const env = {
      AWS_REGION: LOCAL.region,
      AWS_ACCESS_KEY_ID: LOCAL.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL.secretAccessKey,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SAGEMAKER: sageMaker.endpoint,
      AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: sageMaker.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
      ...localEnvironment(options.params),
    };
    const cloud = new LocalCloud(s3, sageMaker, eventBridge, env);
    cloud.authorizer = authorizer;
    cloud.applyEnvironment();
    logger.setLogLevel(options.lambdaLogLevel ?? 'SILENT');
    try {
      await cloud.startFunctions(options);
    } catch (error) {
      await cloud.close();
      throw error;
    }
    // The state machine's service integrations call SageMaker as the state machine's role.
    cloud.sageMakerClient = new SageMakerClient({
      region: LOCAL.region,
      endpoint: sageMaker.endpoint,
      credentials: credentialsFor('stateMachine'),
    });
    const substitutions = Object.fromEntries(
      Object.keys(PIPELINE_FUNCTIONS).map((name) => [
        `${name}FunctionArn`,
        `arn:aws:lambda:${LOCAL.region}:${LOCAL.account}:function:${functionName(LOCAL.service, LOCAL.stage, name)}`,
      ]),
    );
    const definition = loadDefinition(substitutions);
    if (options.executionTimeoutSeconds !== undefined) definition.TimeoutSeconds = options.executionTimeoutSeconds;
    cloud.definition = definition;
    cloud.stateMachine = new LocalStateMachine({
      definition,
      stateMachineArn,
      lambdas: withInvokePermission(localLambdas(cloud.invokers, deployedFunctionName), authorizer),
      sageMaker: cloud.sageMakerClient,
      timing: options.stepFunctionsTiming,
      onEvent: options.onEvent,
      onFinished: (record) => cloud.runJanitor(record),
    });
    if (options.s3Trigger !== false) s3.onObjectCreated((event) => cloud.onObjectCreated(event));
    // The Report function reads the execution's history through the Step Functions API, as in AWS.
    await cloud.startStepFunctionsApi(options.ports?.stepFunctions);
    // Sandboxes take their environment when they start: only now is it complete (AWS_ENDPOINT_URL_SFN). The
    // pipeline's functions in the order an execution calls them, the janitor after every execution.
    if (options.prewarmFunctions !== false)
      void cloud.lambda?.prewarm([
        'prepare',
        'split',
        'upload',
        'capacity',
        'evaluate',
        'cleanup',
        'report',
        'janitor',
        'promote',
      ]);
    return cloud;
  }

  /**
   * The local Lambda: every function of serverless.yml with its limits (and the test overrides), each invocation in a
   * sandbox of its function with the cloud's environment and the function's own credentials, unless isolation is off.
   */
  private async startFunctions(options: LocalCloudOptions): Promise<void> {
    const functions = serverlessFunctions(options.functionLimits);
    if (options.lambdaIsolation !== false) {
      this.lambda = new LambdaInvoker({
        functions,
        functionName: deployedFunctionName,
        region: LOCAL.region,
        account: LOCAL.account,
        environment: () => this.env,
        credentials: (key) => credentialEnvironment(functionPrincipal(key)),
        logLevel: options.lambdaLogLevel,
        onReport: (report) => {
          this.lambdaReports.push(report);
          if (this.lambdaReports.length > KEPT_LAMBDA_REPORTS) this.lambdaReports.shift();
          options.onLambdaReport?.(report);
        },
      });
      await this.lambda.prepare();
    }
    this.invokers = functionInvokers(functions, deployedFunctionName, this.lambda);
  }

  /** Invokes a function of serverless.yml (by key) synchronously, as the Lambda Invoke API does. */
  invokeFunction(key: string, event: unknown): Promise<unknown> {
    const invoke = this.invokers[key];
    if (!invoke) throw new Error(`The local cloud has no function ${key}`);
    return invoke(event);
  }

  /** Handlers read AWS_ENDPOINT_URL_* and the stage variables from the process environment, as on Lambda. */
  private applyEnvironment(): void {
    for (const [name, value] of Object.entries(this.env)) {
      this.savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    resetClients();
  }

  /** Every request IAM denied so far (principal, action, resource, AWS's message); empty when enforcement is off. */
  get denials(): readonly Denial[] {
    return this.authorizer?.denials ?? [];
  }

  get rawPrefix(): string {
    return this.env[STAGE_ENV.rawPrefix] ?? 'raw/';
  }

  /** The EventBridge rule of serverless.yml: Object Created in the data bucket under the raw prefix. */
  private onObjectCreated(event: LocalS3ObjectCreatedEvent): void {
    if (event.bucket !== LOCAL.bucket || !event.key.startsWith(this.rawPrefix)) return;
    const execution = this.startExecution(s3ObjectCreatedEvent(event));
    for (const listener of this.startedListeners) listener(execution, event);
  }

  /** Calls back once for the execution the next matching upload starts. */
  nextTriggeredExecution(key: string): Promise<LocalExecution> {
    return new Promise((resolve) => {
      const listener = (execution: LocalExecution, trigger: LocalS3ObjectCreatedEvent | undefined) => {
        if (trigger?.key !== key) return;
        this.startedListeners.splice(this.startedListeners.indexOf(listener), 1);
        resolve(execution);
      };
      this.startedListeners.push(listener);
    });
  }

  startExecution(input: unknown, name: string = randomUUID()): LocalExecution {
    return this.stateMachine.start(input, name);
  }

  /** The schedule rule's input: EventBridge's Scheduled Event. */
  scheduledEvent(): Record<string, unknown> {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: LOCAL.account,
      time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      region: LOCAL.region,
      resources: [`arn:aws:events:${LOCAL.region}:${LOCAL.account}:rule/${LOCAL.service}-${LOCAL.stage}-schedule`],
      detail: {},
    };
  }

  /** The janitor rule of serverless.yml: every finished execution of this state machine (cleanup + notification). */
  private async runJanitor(record: ExecutionRecord): Promise<void> {
    const event: EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange> = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: LOCAL.account,
      time: new Date().toISOString(),
      region: LOCAL.region,
      resources: [record.executionArn],
      detail: {
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        input: JSON.stringify(record.input),
        output: record.output === undefined ? null : JSON.stringify(record.output),
        error: record.error ?? null,
        cause: record.cause ?? null,
      },
    };
    let result: unknown;
    try {
      result = await this.invokeFunction(JANITOR_FUNCTION, event);
    } catch (error) {
      result = { error: String(error) };
    }
    this.janitorRuns.push({ executionName: record.name, result });
  }

  /**
   * Serves the Step Functions API for this state machine (SDK clients, `aws --endpoint-url`, `knn-pipeline --local`).
   */
  async startStepFunctionsApi(port?: number): Promise<string> {
    this.stepFunctionsApi ??= await startStepFunctionsApi({
      stateMachine: this.stateMachine,
      stateMachineArn,
      definition: this.definition,
      roleArn: principal('stateMachine').arn,
      startExecution: (input, name) => this.startExecution(input, name),
      port,
      authorizer: this.authorizer,
    });
    const endpoint = this.stepFunctionsApi.endpoint;
    this.env.AWS_ENDPOINT_URL_SFN = endpoint;
    if (!('AWS_ENDPOINT_URL_SFN' in this.savedEnv))
      this.savedEnv.AWS_ENDPOINT_URL_SFN = process.env.AWS_ENDPOINT_URL_SFN;
    process.env.AWS_ENDPOINT_URL_SFN = endpoint;
    return endpoint;
  }

  async close(): Promise<void> {
    await this.lambda?.stop();
    await this.stepFunctionsApi?.close();
    resetClients();
    this.sageMakerClient?.destroy();
    await this.sageMaker.close();
    await this.eventBridge.close();
    await this.s3.close();
    for (const [name, value] of Object.entries(this.savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The event EventBridge delivers for an S3 upload (documented shape; the key as stored). */
export function s3ObjectCreatedEvent(event: LocalS3ObjectCreatedEvent): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: LOCAL.account,
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: LOCAL.region,
    resources: [`arn:aws:s3:::${event.bucket}`],
    detail: {
      version: '0',
      bucket: { name: event.bucket },
      object: {
        key: event.key,
        size: event.size,
        etag: event.etag,
        ...(event.versionId ? { 'version-id': event.versionId } : {}),
        sequencer: event.sequencer,
      },
      'request-id': randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase(),
      requester: LOCAL.account,
      'source-ip-address': '127.0.0.1',
      reason: 'PutObject',
    },
  };
}
