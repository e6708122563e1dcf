import { readServerlessConfig } from '../../local/serverlessConfig';
/**
 * "Least privilege you can prove": checks of the packaged template against what the code and the definition
 * actually do. Registered by package.test.ts, so the service is packaged once for both.
 *
 *  - Lambda roles: the AWS SDK commands each handler's code can send (static analysis, test/deploy/sdkCalls.ts) map to
 *    exactly the actions its role grants — nothing missing, nothing extra beyond its own log group, the conditional
 *    data-key statement and the documented extras below — on resources of this stage only (run prefixes of the data
 *    bucket, SageMaker names with this stage's prefix, each one a name the code really produces).
 *  - State machine role: the calls every Task of statemachine/pipeline.asl.json makes, with the requests
 *    src/domain/sageMakerRequests.ts builds for sample runs, are each allowed, and every grant is used by one.
 *  - Bucket: encryption, versioning, public access block, TLS only, run-artifact expiry, nothing may write raw/.
 *  - Template-wide: no wildcard action in an Allow; Resource "*" exactly for the actions AWS gives no resource type,
 *    and exactly the list in docs/security.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  foldLayout,
  foldTrainingJobName,
  s3Uri,
  servingEndpointName,
  type SageMakerNames,
} from '../../src/domain/naming';
import { MAX_FOLDS, resolveRunConfig, type RunConfig, type StageDefaults } from '../../src/domain/runConfig';
import { sageMakerRequests, trainingJobRequest } from '../../src/domain/sageMakerRequests';
import { testStageDefaults } from '../support/stage';
import type { AslDefinition, AslState } from '../../statemachine/definition';
import {
  PROJECT_DIR,
  normaliseStatement,
  resourceText,
  roleStatements,
  type Json,
  type NormalStatement,
  type PolicyDocument,
  type Properties,
  type Template,
} from './helpers';
import { analyseHandler, requiredActions, type HandlerAnalysis } from './sdkCalls';

const PREFIX = 'knnp-test';
const RUNS = 'runs/';
const RAW = 'raw/';
const SM = (kind: string, name: string) =>
  `arn:\${AWS::Partition}:sagemaker:\${AWS::Region}:\${AWS::AccountId}:${kind}/${name}`;
const S3_OBJECT = (key: string) => `arn:\${AWS::Partition}:s3:::\${DataBucket}/${key}`;
const S3_BUCKET = 'arn:${AWS::Partition}:s3:::${DataBucket}';
const SYNC_RULE =
  'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule';
const TRANSFORM_SYNC_RULE =
  'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForSageMakerTransformJobsRule';
const TUNING_SYNC_RULE =
  'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForSageMakerTuningJobsRule';
const cap = (name: string) => name[0].toUpperCase() + name.slice(1);

/**
 * The resource types IAM knows for every action this stack grants (AWS service authorization reference; cross-checked
 * below against the copy cfn-lint ships when it is installed). [] means the action has no resource-level permissions:
 * IAM only accepts Resource "*" for it. For AddTags/ListTags only the SageMaker kinds this service uses are listed.
 */
export const RESOURCE_TYPES: Record<string, string[]> = {
  'cloudwatch:PutMetricData': [],
  'ec2:CreateNetworkInterface': ['network-interface', 'security-group', 'subnet'],
  'ec2:CreateNetworkInterfacePermission': ['network-interface'],
  'ec2:DeleteNetworkInterface': ['network-interface'],
  'ec2:DeleteNetworkInterfacePermission': ['network-interface'],
  'ec2:DescribeDhcpOptions': [],
  'ec2:DescribeNetworkInterfaces': [],
  'ec2:DescribeSecurityGroups': [],
  'ec2:DescribeSubnets': [],
  'ec2:DescribeVpcs': [],
  'ecr:BatchCheckLayerAvailability': ['repository'],
  'ecr:BatchGetImage': ['repository'],
  'ecr:GetAuthorizationToken': [],
  'ecr:GetDownloadUrlForLayer': ['repository'],
  'events:DescribeRule': ['rule-on-default-event-bus'],
  'events:PutEvents': ['event-bus'],
  'events:PutRule': ['rule-on-default-event-bus'],
  'events:PutTargets': ['rule-on-default-event-bus'],
  'iam:PassRole': ['role'],
  'kms:CreateGrant': ['key'],
  'kms:Decrypt': ['key'],
  'kms:DescribeKey': ['key'],
  'kms:Encrypt': ['key'],
  'kms:GenerateDataKey': ['key'],
  'lambda:InvokeFunction': ['function'],
  'logs:CreateLogDelivery': [],
  'logs:CreateLogGroup': ['log-group'],
  'logs:CreateLogStream': ['log-stream'],
  'logs:DeleteLogDelivery': [],
  'logs:DescribeLogGroups': [],
  'logs:DescribeLogStreams': ['log-group'],
  'logs:DescribeResourcePolicies': [],
  'logs:GetLogDelivery': [],
  'logs:ListLogDeliveries': [],
  'logs:PutLogEvents': ['log-stream'],
  'logs:PutResourcePolicy': [],
  'logs:UpdateLogDelivery': [],
  's3:AbortMultipartUpload': ['object'],
  's3:GetObject': ['object'],
  's3:GetObjectVersion': ['object'],
  's3:ListBucket': ['bucket'],
  's3:PutObject': ['object'],
  's3:DeleteObject': ['object'],
  'states:GetExecutionHistory': ['execution'],
  'sagemaker:AddTags': [
    'endpoint',
    'endpoint-config',
    'hyper-parameter-tuning-job',
    'model',
    'training-job',
    'transform-job',
  ],
  'sagemaker:CreateEndpoint': ['endpoint', 'endpoint-config'],
  'sagemaker:CreateEndpointConfig': ['endpoint-config'],
  'sagemaker:CreateHyperParameterTuningJob': ['hyper-parameter-tuning-job'],
  'sagemaker:CreateModel': ['model'],
  'sagemaker:CreateTrainingJob': ['training-job'],
  'sagemaker:CreateTransformJob': ['transform-job'],
  'sagemaker:DeleteEndpoint': ['endpoint'],
  'sagemaker:DeleteEndpointConfig': ['endpoint-config'],
  'sagemaker:DeleteModel': ['model'],
  'sagemaker:DescribeEndpoint': ['endpoint'],
  'sagemaker:DescribeEndpointConfig': ['endpoint-config'],
  'sagemaker:DescribeHyperParameterTuningJob': ['hyper-parameter-tuning-job'],
  'sagemaker:DescribeTrainingJob': ['training-job'],
  'sagemaker:DescribeTransformJob': ['transform-job'],
  'sagemaker:InvokeEndpoint': ['endpoint'],
  'sagemaker:ListEndpointConfigs': [],
  'sagemaker:ListTags': [
    'endpoint',
    'endpoint-config',
    'hyper-parameter-tuning-job',
    'model',
    'training-job',
    'transform-job',
  ],
  'sagemaker:ListTrainingJobsForHyperParameterTuningJob': ['hyper-parameter-tuning-job'],
  'sagemaker:StopHyperParameterTuningJob': ['hyper-parameter-tuning-job'],
  'sagemaker:StopTrainingJob': ['training-job'],
  'sagemaker:StopTransformJob': ['transform-job'],
  'sagemaker:UpdateEndpoint': ['endpoint', 'endpoint-config'],
  'states:StartExecution': ['statemachine'],
};

/** Actions a function's role grants beyond what its SDK commands map to, each with the reason. */
const EXTRA_ACTIONS: Record<string, Record<string, string>> = {
  prepare: {
    's3:GetObjectVersion':
      'HeadObject/GetObject of the raw dataset pin the version-id of the S3 event (VersionId), which S3 authorises as s3:GetObjectVersion',
  },
};
/** Functions that may read the raw prefix (read only): the one that reads the dataset. */
const RAW_READERS = new Set(['prepare']);
/** Statements every function role may have besides its SDK calls. */
const isOwnLogGroup = (name: string, s: NormalStatement) =>
  s.actions.join() === 'logs:CreateLogStream,logs:PutLogEvents' &&
  s.resources.join() === `GetAtt:${cap(name)}LogGroup.Arn`;
const isDataKey = (s: NormalStatement) =>
  s.onlyIf === 'HasDataKmsKey' &&
  s.actions.join() === 'kms:Decrypt,kms:GenerateDataKey' &&
  s.resources.join() === 'Ref:DataKmsKeyArn';

/** The functions serverless.yml deploys (names known when the tests are defined, before packaging). */
const serverlessYml = readServerlessConfig();
export const DEPLOYED_FUNCTIONS: string[] = Object.keys(serverlessYml.functions).sort();

/** IAM's wildcard match of a resource pattern (`*`, `?`) against a concrete resource, both in template notation. */
export function iamMatches(pattern: string, resource: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(resource);
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

// ---------------------------------------------------------------------------------------------------------------
// Sample runs: the SageMaker names and requests the code produces for this stage (prefix knnp-test)
// ---------------------------------------------------------------------------------------------------------------

export function stageDefaults(): StageDefaults {
  const base = testStageDefaults();
  return testStageDefaults({
    dataBucket: 'knn-pipeline-test-data',
    namePrefix: PREFIX,
    serve: { enabled: true, keep: 2 },
    // The template's notation, so that iam:PassRole can be compared with the statement's Resource.
    training: { ...base.training, roleArn: 'GetAtt:SageMakerExecutionRole.Arn' },
  });
}

const s3Event = (key: string) => ({
  source: 'aws.s3',
  'detail-type': 'Object Created',
  id: 'e1',
  detail: {
    bucket: { name: 'knn-pipeline-test-data' },
    object: { key, etag: 'abc', sequencer: '01', 'version-id': 'v1' },
  },
});

/**
 * Runs from every trigger, with short, long, odd and unicode names, cross-validation, every evaluation mode, and
 * serving on (except with a serverless endpoint, which serving mode refuses).
 */
export function sampleRuns(): RunConfig[] {
  const inputs: [unknown, string][] = [
    // Twenty folds fit the 6 h time budget only with shorter training jobs (src/domain/timeBudget.ts).
    [
      {
        serve: true,
        crossValidation: { folds: MAX_FOLDS },
        training: { maxRuntimeInSeconds: 600 },
        tuning: { strategy: 'Grid', ranges: { k: { values: [1, 3, 5] } }, maxRuntimeInSeconds: 1800 },
      },
      'run-1',
    ],
    [{ serve: true, crossValidation: { folds: 2 } }, '7f9c0e1a-0b6d-4f6f-9a43-3c1f6d2f8e11'],
    [
      { serve: true, tuning: { strategy: 'Random', ranges: { k: { min: 1, max: 50 } }, maxJobs: 20 } },
      'Nightly Retrain — größer/besser ✓ '.repeat(3),
    ],
    [{ serve: true, evaluation: { mode: 'batchTransform' } }, 'b'],
    [{ serve: true, evaluation: { mode: 'batchTransform' } }, 'Batch Scoring (large) — ünïcode ✓ '.repeat(3)],
    [{ serve: false, evaluation: { mode: 'serverless' } }, 'serverless-3f1c0e1a-0b6d-4f6f-9a43-3c1f6d2f8e'],
    [s3Event('raw/iris.csv'), 'exec-s3'],
    [s3Event('raw/a/very/deep/path/Über Data (final) v2.csv'), 'exec-s3-2'],
    [{ 'detail-type': 'Scheduled Event', source: 'aws.events', id: 's1' }, 'scheduled-2026-11-28'],
  ];
  return inputs.map(([input, name]) => {
    const run = resolveRunConfig(input, { name }, stageDefaults());
    run.serve.enabled = run.evaluation.mode !== 'serverless';
    run.crossValidation.folds = Math.max(run.crossValidation.folds, 2);
    run.training.hyperParameters.feature_dim = '4';
    run.requests = sageMakerRequests(run);
    return run;
  });
}

/** Every SageMaker name a run can produce, by IAM resource kind (src/domain/naming.ts). */
export function namesByKind(runs: RunConfig[]): Record<string, string[]> {
  const byKind: Record<string, string[]> = {
    'training-job': [],
    'transform-job': [],
    'hyper-parameter-tuning-job': [],
    model: [],
    'endpoint-config': [],
    endpoint: [],
  };
  for (const run of runs) {
    const names: SageMakerNames = run.names;
    byKind['training-job'].push(
      names.trainingJob,
      ...Array.from({ length: MAX_FOLDS }, (_, i) => foldTrainingJobName(names, i + 1)),
    );
    byKind['transform-job'].push(names.transformJob);
    // SageMaker names a tuning job's training jobs <tuning job>-NNN-<8 hex>.
    byKind['hyper-parameter-tuning-job'].push(names.tuningJob);
    byKind['training-job'].push(`${names.tuningJob}-001-0a1b2c3d`, `${names.tuningJob}-750-ffffffff`);
    byKind.model.push(names.model);
    byKind['endpoint-config'].push(names.endpointConfig, run.serve.endpointConfigName);
    byKind.endpoint.push(names.endpoint, run.serve.endpointName);
  }
  return Object.fromEntries(Object.entries(byKind).map(([kind, names]) => [kind, sortedUnique(names)]));
}

// ---------------------------------------------------------------------------------------------------------------
// The definition's calls: every Task of statemachine/pipeline.asl.json, evaluated on sample runs
// ---------------------------------------------------------------------------------------------------------------

export interface Call {
  action: string;
  resource: string;
  /** Which state makes the call. */
  state: string;
}

function resolvePath(input: unknown, path: string, context: Record<string, unknown>): unknown {
  if (path.startsWith('$$.')) return context[path];
  if (path === '$') return input;
  if (!path.startsWith('$.')) throw new Error(`unsupported path ${path}`);
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>((value, key) => (value == null ? undefined : (value as Record<string, unknown>)[key]), input);
}

function resolveTemplate(template: unknown, input: unknown, context: Record<string, unknown>): unknown {
  if (Array.isArray(template)) return template.map((item) => resolveTemplate(item, input, context));
  if (template && typeof template === 'object') {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) =>
        key.endsWith('.$')
          ? [key.slice(0, -2), resolvePath(input, value as string, context)]
          : [key, resolveTemplate(value, input, context)],
      ),
    );
  }
  return template;
}

const sageMakerResourceOf: Record<string, string> = {
  TrainingJobName: 'training-job',
  TransformJobName: 'transform-job',
  ModelName: 'model',
  EndpointConfigName: 'endpoint-config',
  EndpointName: 'endpoint',
};

/**
 * The request a Task passes on (its InputPath or Parameters resolved), or undefined when its InputPath names a request
 * this run does not carry: the request of another evaluation mode, on a branch the run never takes.
 */
function taskRequest(state: AslState & { Type: 'Task' }, input: unknown): unknown {
  if (state.InputPath) return resolvePath(input, state.InputPath, {});
  return state.Parameters ? resolveTemplate(state.Parameters, input, {}) : input;
}

/** What one Task state calls, for the input it receives. */
function taskCalls(stateName: string, state: AslState & { Type: 'Task' }, input: unknown): Call[] {
  // The SageMaker request the state sends (its Parameters or InputPath resolved); SageMaker names are read as text.
  const request = taskRequest(state, input) as {
    Tags?: unknown[];
    RoleArn?: string;
    ExecutionRoleArn?: string;
    [field: string]: unknown;
  };
  const resource = state.Resource;
  const call = (action: string, arn: string): Call => ({ action, resource: arn, state: stateName });
  const named = (kind: string, name: unknown) => SM(kind, String(name).toLowerCase());
  const tagged = (arn: string) => (request.Tags?.length ? [call('sagemaker:AddTags', arn)] : []);
  const passRole = (roleArn: string | undefined) => (roleArn ? [call('iam:PassRole', roleArn)] : []);

  const lambda = /^\$\{self:custom\.asl\.(\w+)FunctionArn\}$/.exec(resource);
  if (lambda) return [call('lambda:InvokeFunction', `GetAtt:${lambda[1]}LambdaFunction.Arn`)];

  const optimised = /^arn:aws:states:::sagemaker:(\w+?)(\.sync)?$/.exec(resource);
  if (optimised) {
    const [, api, sync] = optimised;
    switch (`${api}${sync ?? ''}`) {
      case 'createTrainingJob.sync': {
        const job = named('training-job', request.TrainingJobName);
        // .sync: create, follow (Describe + ListTags), stop when the execution is stopped; the managed rule tells
        // Step Functions when the job ends.
        return [
          ...['CreateTrainingJob', 'DescribeTrainingJob', 'StopTrainingJob', 'ListTags'].map((a) =>
            call(`sagemaker:${a}`, job),
          ),
          ...tagged(job),
          ...passRole(request.RoleArn),
          ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((a) => call(a, SYNC_RULE)),
        ];
      }
      case 'createTransformJob.sync': {
        // As training: create, follow (Describe + ListTags), stop on abort, the managed rule; no role is passed (the
        // job runs the model, with the model's execution role).
        const job = named('transform-job', request.TransformJobName);
        return [
          ...['CreateTransformJob', 'DescribeTransformJob', 'StopTransformJob', 'ListTags'].map((a) =>
            call(`sagemaker:${a}`, job),
          ),
          ...tagged(job),
          ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((a) => call(a, TRANSFORM_SYNC_RULE)),
        ];
      }
      case 'createHyperParameterTuningJob.sync': {
        // As training: create, follow (Describe + ListTags), stop on abort, the managed rule; the role of the
        // training jobs SageMaker launches is passed in TrainingJobDefinition.
        const job = named('hyper-parameter-tuning-job', request.HyperParameterTuningJobName);
        const definition = request.TrainingJobDefinition as { RoleArn?: string } | undefined;
        return [
          ...[
            'CreateHyperParameterTuningJob',
            'DescribeHyperParameterTuningJob',
            'StopHyperParameterTuningJob',
            'ListTags',
          ].map((a) => call(`sagemaker:${a}`, job)),
          ...tagged(job),
          ...passRole(definition?.RoleArn),
          ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((a) => call(a, TUNING_SYNC_RULE)),
        ];
      }
      case 'createModel': {
        const model = named('model', request.ModelName);
        return [call('sagemaker:CreateModel', model), ...tagged(model), ...passRole(request.ExecutionRoleArn)];
      }
      case 'createEndpointConfig': {
        const config = named('endpoint-config', request.EndpointConfigName);
        return [call('sagemaker:CreateEndpointConfig', config), ...tagged(config)];
      }
      case 'createEndpoint': {
        const endpoint = named('endpoint', request.EndpointName);
        return [
          call('sagemaker:CreateEndpoint', endpoint),
          call('sagemaker:CreateEndpoint', named('endpoint-config', request.EndpointConfigName)),
          ...tagged(endpoint),
        ];
      }
      case 'updateEndpoint':
        return [
          call('sagemaker:UpdateEndpoint', named('endpoint', request.EndpointName)),
          call('sagemaker:UpdateEndpoint', named('endpoint-config', request.EndpointConfigName)),
        ];
      default:
        throw new Error(`${stateName}: no IAM mapping for ${resource}; add it to test/deploy/leastPrivilege.ts`);
    }
  }

  const sdk = /^arn:aws:states:::aws-sdk:sagemaker:(\w+)$/.exec(resource);
  // Reads, and the one delete (the run's evaluation endpoint): each names a single resource.
  if (sdk && /^(describe|list|deleteEndpoint$)/.test(sdk[1])) {
    const action = `sagemaker:${cap(sdk[1])}`;
    const names = Object.entries(request).filter(([key]) => key in sageMakerResourceOf);
    if (names.length !== 1) throw new Error(`${stateName}: cannot tell which resource ${resource} acts on`);
    return [call(action, named(sageMakerResourceOf[names[0][0]], names[0][1] as string))];
  }
  throw new Error(
    `${stateName}: no IAM mapping for Task resource ${resource}; add it to test/deploy/leastPrivilege.ts`,
  );
}

/** Every call of every Task state (Map item processors included) for one run. */
export function definitionCalls(definition: AslDefinition, run: RunConfig): Call[] {
  const folds = Array.from({ length: run.crossValidation.folds }, (_, i) => {
    const keys = foldLayout(run.keys.root, i + 1);
    const channels = {
      trainingJobName: foldTrainingJobName(run.names, i + 1),
      trainUri: s3Uri(run.bucket, keys.trainChannelPrefix),
      testUri: s3Uri(run.bucket, keys.testChannelPrefix),
      outputUri: s3Uri(run.bucket, keys.output),
    };
    return { fold: i + 1, ...channels, request: trainingJobRequest(run, channels) };
  });
  // Upload's result: the fold requests, the final one and tuning's (feature_dim as the channels hold the rows).
  const input = {
    run,
    channels: { folds, trainingJob: run.requests?.trainingJob, tuningJob: run.requests?.tuningJob },
  };
  const calls: Call[] = [];
  const visit = (states: Record<string, AslState>, stateInput: unknown) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task' && taskRequest(state, stateInput) !== undefined)
        calls.push(...taskCalls(name, state, stateInput));
      if (state.Type === 'Map') {
        const processor = (state.ItemProcessor ?? state.Iterator)!;
        const items = resolvePath(stateInput, (state.ItemsPath as string | undefined) ?? '$', {}) as unknown[];
        for (const item of items) {
          const itemInput = state.ItemSelector
            ? resolveTemplate(state.ItemSelector, stateInput, { '$$.Map.Item.Value': item })
            : item;
          visit(processor.States, itemInput);
        }
      }
      if (state.Type === 'Parallel') for (const branch of state.Branches!) visit(branch.States, stateInput);
    }
  };
  visit(definition.States, input);
  return calls;
}

// ---------------------------------------------------------------------------------------------------------------
// docs/security.md: the Resource "*" exceptions, as documented
// ---------------------------------------------------------------------------------------------------------------

export interface StarException {
  role: string;
  actions: string[];
}

/** The rows of the table under "## Resource `*`" in docs/security.md. */
export function documentedStarExceptions(securityDoc: string): StarException[] {
  const section = /^## Resource `\*`[^\n]*\n([\s\S]*?)(?=^## |$(?![\s\S]))/m.exec(securityDoc)?.[1];
  if (!section) throw new Error('docs/security.md has no "## Resource `*` …" section');
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .slice(1) // header
    .map((line) => {
      const [role, actions] = line.split('|').slice(1, 3);
      return {
        role: /`(\w+)`/.exec(role)?.[1] ?? role.trim(),
        actions: sortedUnique([...actions.matchAll(/`([a-z0-9-]+:[A-Za-z0-9*]+)`/g)].map((m) => m[1])),
      };
    });
}

// ---------------------------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------------------------

interface PolicyStatement {
  where: string;
  statement: NormalStatement;
}

export function registerLeastPrivilegeTests(getTemplate: () => Template): void {
  const template = () => getTemplate();
  const roleOfFunction = (name: string) => {
    const role = template().Resources[`${cap(name)}LambdaFunction`].Properties.Role;
    const match = /^\$\{(\w+)\.Arn\}$/.exec(resourceText(role));
    if (!match) throw new Error(`${name}: unexpected Role ${JSON.stringify(role)}`);
    return match[1];
  };
  const statementsOf = (roleId: string) => roleStatements(template().Resources[roleId]);
  const allStatements = (): PolicyStatement[] => {
    const found: PolicyStatement[] = [];
    for (const [id, resource] of Object.entries(template().Resources)) {
      const documents: PolicyDocument[] = [];
      if (resource.Type === 'AWS::IAM::Role')
        documents.push(...(resource.Properties.Policies ?? []).map((p) => p.PolicyDocument));
      if (['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::S3::BucketPolicy'].includes(resource.Type))
        documents.push(resource.Properties.PolicyDocument);
      for (const document of documents)
        for (const raw of document.Statement) found.push({ where: id, statement: normaliseStatement(raw) });
    }
    return found;
  };
  const runs = sampleRuns();
  const names = namesByKind(runs);
  const analyses = new Map<string, HandlerAnalysis>();
  const analysis = (name: string) => {
    if (!analyses.has(name)) analyses.set(name, analyseHandler(name));
    return analyses.get(name)!;
  };

  describe('least privilege: Lambda roles = the SDK calls of their code (static analysis)', () => {
    test('the template deploys exactly the functions of serverless.yml, each with its own role', () => {
      const deployed = Object.entries(template().Resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .map(([, r]) => /^functions\/(\w+)\.handler$/.exec(r.Properties.Handler)?.[1]);
      expect(deployed.sort()).toEqual(DEPLOYED_FUNCTIONS);
      expect(new Set(DEPLOYED_FUNCTIONS.map(roleOfFunction)).size).toBe(DEPLOYED_FUNCTIONS.length);
    });

    test.each(DEPLOYED_FUNCTIONS)(
      '%s: the analysis follows its imports into src/ and finds its SDK commands',
      (name) => {
        const { modules, commands } = analysis(name);
        expect(modules).toContain(`functions/${name}.ts`);
        // Every handler reaches AWS through the adapters in src/aws/.
        expect(modules.some((m) => m.startsWith('src/aws/'))).toBe(true);
        expect(commands.length).toBeGreaterThan(0);
      },
    );

    test.each(DEPLOYED_FUNCTIONS)('%s: its role grants exactly the actions its SDK commands need', (name) => {
      const required = sortedUnique([...requiredActions(analysis(name)), ...Object.keys(EXTRA_ACTIONS[name] ?? {})]);
      const statements = statementsOf(roleOfFunction(name));
      const granted = sortedUnique(
        statements.filter((s) => !isOwnLogGroup(name, s) && !isDataKey(s)).flatMap((s) => s.actions),
      );
      expect({ name, granted }).toEqual({ name, granted: required });
      // Its own log group, nothing else of CloudWatch Logs.
      expect(statements.filter((s) => isOwnLogGroup(name, s))).toHaveLength(1);
      // The data key (SSE-KMS bucket) exactly when it reads or writes objects.
      const touchesObjects = required.some((a) => a === 's3:GetObject' || a === 's3:PutObject');
      expect({ name, dataKey: statements.filter(isDataKey).length }).toEqual({ name, dataKey: touchesObjects ? 1 : 0 });
      for (const s of statements) expect({ name, effect: s.effect }).toEqual({ name, effect: 'Allow' });
    });

    test.each(DEPLOYED_FUNCTIONS)("%s: every grant is on this stage's resources only", (name) => {
      for (const s of statementsOf(roleOfFunction(name))) {
        if (isOwnLogGroup(name, s) || isDataKey(s)) continue;
        for (const action of s.actions) {
          for (const resource of s.resources) {
            const where = { name, action, resource };
            const types = RESOURCE_TYPES[action];
            expect({ ...where, known: types !== undefined }).toEqual({ ...where, known: true });
            if (types.length === 0) {
              expect(where).toEqual({ ...where, resource: '*' });
            } else if (action === 's3:ListBucket') {
              expect(where).toEqual({ ...where, resource: S3_BUCKET });
            } else if (action.startsWith('s3:')) {
              const rawRead = RAW_READERS.has(name) && (action === 's3:GetObject' || action === 's3:GetObjectVersion');
              const allowed = rawRead ? [S3_OBJECT(RUNS), S3_OBJECT(RAW)] : [S3_OBJECT(RUNS)];
              expect({ ...where, inPrefix: allowed.some((p) => resource.startsWith(p)) }).toEqual({
                ...where,
                inPrefix: true,
              });
            } else if (action.startsWith('sagemaker:')) {
              const kind =
                /^arn:\$\{AWS::Partition\}:sagemaker:\$\{AWS::Region\}:\$\{AWS::AccountId\}:([a-z-]+)\/(.*)$/.exec(
                  resource,
                );
              expect({
                ...where,
                kindAllowed: types.includes(kind?.[1] ?? ''),
                stagePrefix: kind?.[2].startsWith(`${PREFIX}--`),
              }).toEqual({
                ...where,
                kindAllowed: true,
                stagePrefix: true,
              });
              // Not a grant on names this service never produces.
              expect({
                ...where,
                matchesARealName: names[kind![1]].some((n) => iamMatches(resource, SM(kind![1], n))),
              }).toEqual({
                ...where,
                matchesARealName: true,
              });
            } else if (action === 'states:GetExecutionHistory') {
              // Only executions of this stage's state machine.
              expect(where).toEqual({
                ...where,
                resource: `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:knn-pipeline-test:*`,
              });
            } else if (action === 'events:PutEvents') {
              expect(where).toEqual({
                ...where,
                resource: 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${NotificationBus}',
              });
              expect(s.onlyIf).toBe('HasNotificationBus');
            } else {
              throw new Error(`${name}: no resource rule for ${action} in test/deploy/leastPrivilege.ts`);
            }
          }
        }
      }
    });

    test('no function but promote can delete the stable serving endpoint; only serving mode roles touch it', () => {
      const stable = SM('endpoint', servingEndpointName(PREFIX));
      for (const name of DEPLOYED_FUNCTIONS) {
        const deleters = statementsOf(roleOfFunction(name)).filter(
          (s) => s.actions.includes('sagemaker:DeleteEndpoint') && s.resources.some((r) => iamMatches(r, stable)),
        );
        expect({ name, deletesStableEndpoint: deleters.length > 0 }).toEqual({
          name,
          deletesStableEndpoint: name === 'promote',
        });
      }
      // …while cleanup and the janitor can delete every run's own endpoint.
      for (const name of ['cleanup', 'janitor']) {
        for (const run of runs) {
          const ok = statementsOf(roleOfFunction(name)).some(
            (s) =>
              s.actions.includes('sagemaker:DeleteEndpoint') &&
              s.resources.some((r) => iamMatches(r, SM('endpoint', run.names.endpoint))),
          );
          expect({ name, endpoint: run.names.endpoint, ok }).toEqual({ name, endpoint: run.names.endpoint, ok: true });
        }
      }
    });

    test('documented extra actions are each still needed by a command family the function uses', () => {
      for (const [name, extras] of Object.entries(EXTRA_ACTIONS)) {
        expect(DEPLOYED_FUNCTIONS).toContain(name);
        for (const action of Object.keys(extras)) {
          if (action.startsWith('s3:GetObject')) expect(requiredActions(analysis(name))).toContain('s3:GetObject');
        }
      }
    });
  });

  describe('least privilege: the state machine role = the calls of the definition', () => {
    const definition = JSON.parse(
      readFileSync(join(PROJECT_DIR, 'statemachine/pipeline.asl.json'), 'utf8'),
    ) as AslDefinition;
    const calls = runs.flatMap((run) => definitionCalls(definition, run));
    const role = () => statementsOf('StateMachineRole');
    const LOG_DELIVERY = [
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups',
      'logs:DescribeResourcePolicies',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:UpdateLogDelivery',
    ];
    const isLogDelivery = (s: NormalStatement) =>
      s.resources.join() === '*' && s.actions.every((a) => LOG_DELIVERY.includes(a));
    const isVolumeKey = (s: NormalStatement) => s.onlyIf === 'HasVolumeKmsKey';
    const derivedStatements = () => role().filter((s) => !isLogDelivery(s) && !isVolumeKey(s));

    test("the definition's Tasks call SageMaker with requests that carry Tags and the SageMaker role", () => {
      const actions = sortedUnique(calls.map((c) => c.action));
      expect(actions).toEqual(
        expect.arrayContaining([
          'sagemaker:CreateTrainingJob',
          'sagemaker:AddTags',
          'sagemaker:UpdateEndpoint',
          'iam:PassRole',
          'lambda:InvokeFunction',
        ]),
      );
      // The fold training jobs of the CrossValidate Map are among the calls.
      expect(calls.some((c) => c.state === 'TrainFold' && c.resource.endsWith('-f2'))).toBe(true);
    });

    test('the sample runs take every Task of the definition: each evaluation mode is covered', () => {
      const tasks: string[] = [];
      const walk = (states: Record<string, AslState>) => {
        for (const [name, state] of Object.entries(states)) {
          if (state.Type === 'Task') tasks.push(name);
          if (state.Type === 'Map') walk((state.ItemProcessor ?? state.Iterator)!.States);
        }
      };
      walk(definition.States);
      expect(sortedUnique(calls.map((c) => c.state))).toEqual(sortedUnique(tasks));
      expect(sortedUnique(runs.map((run) => run.evaluation.mode))).toEqual([
        'batchTransform',
        'endpoint',
        'serverless',
      ]);
    });

    test('the SageMaker, Lambda, events and PassRole actions granted are exactly the ones the definition needs', () => {
      expect(sortedUnique(derivedStatements().flatMap((s) => s.actions))).toEqual(
        sortedUnique(calls.map((c) => c.action)),
      );
    });

    test('every call of every Task, for every sample run, is allowed', () => {
      for (const callMade of calls) {
        const allowed = derivedStatements().some(
          (s) =>
            s.effect === 'Allow' &&
            s.actions.includes(callMade.action) &&
            s.resources.some((r) => iamMatches(r, callMade.resource)),
        );
        expect({ ...callMade, allowed }).toEqual({ ...callMade, allowed: true });
      }
    });

    test('every grant is used by a call: no action on a resource the definition never touches', () => {
      for (const s of derivedStatements()) {
        for (const action of s.actions) {
          for (const resource of s.resources) {
            const used = calls.some((c) => c.action === action && iamMatches(resource, c.resource));
            expect({ action, resource, used }).toEqual({ action, resource, used: true });
          }
        }
      }
    });

    test("SageMaker only on this stage's names; events only on the managed rule; PassRole only of the SageMaker role, only to SageMaker", () => {
      for (const s of role()) {
        for (const action of s.actions) {
          if (action.startsWith('sagemaker:')) {
            for (const r of s.resources)
              expect({ action, r }).toEqual({
                action,
                r: expect.stringMatching(
                  new RegExp(
                    `:(training-job|transform-job|hyper-parameter-tuning-job|model|endpoint-config|endpoint)/${PREFIX}-`,
                  ),
                ),
              });
          }
          if (action.startsWith('events:'))
            expect({
              action,
              managedRule:
                s.resources.length === 1 && [SYNC_RULE, TRANSFORM_SYNC_RULE, TUNING_SYNC_RULE].includes(s.resources[0]),
            }).toEqual({
              action,
              managedRule: true,
            });
        }
      }
      const passRole = role().filter((s) => s.actions.includes('iam:PassRole'));
      expect(passRole).toEqual([
        expect.objectContaining({
          actions: ['iam:PassRole'],
          resources: ['GetAtt:SageMakerExecutionRole.Arn'],
          condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
        }),
      ]);
    });

    test('the state machine may use only the volume KMS keys, only when set, grants only for AWS resources', () => {
      const keys = role().filter(isVolumeKey);
      const volumeKeys = [
        'If(HasEndpointKmsKey):Ref:EndpointKmsKeyId',
        'If(HasTrainingVolumeKmsKey):Ref:TrainingVolumeKmsKeyId',
      ];
      expect(keys.map(({ lists: _l, ...s }) => s)).toEqual([
        {
          effect: 'Allow',
          actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey'],
          resources: volumeKeys,
          onlyIf: 'HasVolumeKmsKey',
        },
        {
          effect: 'Allow',
          actions: ['kms:CreateGrant'],
          resources: volumeKeys,
          onlyIf: 'HasVolumeKmsKey',
          condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        },
      ]);
      expect(template().Conditions?.HasVolumeKmsKey).toEqual({
        'Fn::Or': [{ Condition: 'HasTrainingVolumeKmsKey' }, { Condition: 'HasEndpointKmsKey' }],
      });
    });
  });

  describe('least privilege: the SageMaker execution role', () => {
    const role = () => statementsOf('SageMakerExecutionRole');
    const grants = (action: string, key: string) =>
      role().some(
        (s) =>
          s.effect === 'Allow' && s.actions.includes(action) && s.resources.some((r) => iamMatches(r, S3_OBJECT(key))),
      );

    test('reads every channel and writes every model the training jobs name, cross-validation folds included', () => {
      for (const run of runs) {
        const folds = Array.from({ length: run.crossValidation.folds }, (_, i) => foldLayout(run.keys.root, i + 1));
        const channels = [
          run.keys.trainChannel,
          run.keys.testChannel,
          ...folds.flatMap((f) => [f.trainChannel, f.testChannel]),
        ];
        const models = [
          `${run.keys.trainingOutput}${run.names.trainingJob}/output/model.tar.gz`,
          ...folds.map((f, i) => `${f.output}${foldTrainingJobName(run.names, i + 1)}/output/model.tar.gz`),
        ];
        for (const key of channels) expect({ key, read: grants('s3:GetObject', key) }).toEqual({ key, read: true });
        for (const key of models) {
          expect({ key, write: grants('s3:PutObject', key), read: grants('s3:GetObject', key) }).toEqual({
            key,
            write: true,
            read: true,
          });
        }
      }
      expect(runs.some((run) => run.crossValidation.folds > 0)).toBe(true);
      // A batch transform reads what its request names and writes its output where Evaluate reads it.
      const transforms = runs.filter((run) => run.requests?.transformJob);
      expect(transforms.length).toBeGreaterThan(0);
      for (const run of transforms) {
        const request = run.requests!.transformJob as {
          TransformInput: { DataSource: { S3DataSource: { S3Uri: string } } };
          TransformOutput: { S3OutputPath: string };
        };
        const input = request.TransformInput.DataSource.S3DataSource.S3Uri.replace(`s3://${run.bucket}/`, '');
        expect(run.keys.testChannel.startsWith(input)).toBe(true);
        expect(grants('s3:GetObject', run.keys.testChannel)).toBe(true);
        const output = `${request.TransformOutput.S3OutputPath.replace(`s3://${run.bucket}/`, '')}test.csv.out`;
        expect(output).toBe(run.keys.transformResult);
        expect({ key: output, write: grants('s3:PutObject', output) }).toEqual({ key: output, write: true });
      }
      // Nothing else of the run: not the prepared dataset, not the evaluation.
      expect(grants('s3:GetObject', runs[0].keys.preparedFeatures)).toBe(false);
      expect(grants('s3:GetObject', runs[0].keys.metrics)).toBe(false);
    });

    test("VPC network-interface actions only with a VPC; creation only in the stage's subnets and security groups", () => {
      const vpc = role().filter((s) => s.actions.some((a) => a.startsWith('ec2:')));
      expect(vpc.every((s) => s.onlyIf === 'HasVpc')).toBe(true);
      const ec2Actions = sortedUnique(vpc.flatMap((s) => s.actions));
      expect(ec2Actions).toEqual([
        'ec2:CreateNetworkInterface',
        'ec2:CreateNetworkInterfacePermission',
        'ec2:DeleteNetworkInterface',
        'ec2:DeleteNetworkInterfacePermission',
        'ec2:DescribeDhcpOptions',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
      ]);
      const ec2 = (kind: string) => `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:${kind}/*`;
      const bySid = (resource: string) => vpc.find((s) => s.resources.join() === resource)!;
      expect(bySid(ec2('subnet')).condition).toEqual({
        StringEquals: { 'ec2:SubnetID': { 'Fn::Split': [',', { Ref: 'VpcSubnetIds' }] } },
      });
      expect(bySid(ec2('security-group')).condition).toEqual({
        StringEquals: { 'ec2:SecurityGroupID': { 'Fn::Split': [',', { Ref: 'VpcSecurityGroupIds' }] } },
      });
      expect(
        Object.keys(
          (bySid(ec2('network-interface')).condition as Record<string, Record<string, Json>>).ArnLikeIfExists,
        ),
      ).toEqual(['ec2:Subnet']);
      // Whatever IAM can scope is scoped: "*" only for the Describe actions, which have no resource types.
      for (const s of vpc) {
        for (const a of s.actions)
          expect({ a, star: s.resources.includes('*') }).toEqual({ a, star: RESOURCE_TYPES[a].length === 0 });
      }
      expect(template().Conditions?.HasVpc).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'VpcSubnetIds' }, ''] }] });
    });

    test('KMS actions only on exactly the configured workload keys, each under its own condition', () => {
      const kms = role().filter((s) => s.onlyIf === 'HasWorkloadKmsKey');
      const keys = [
        'If(HasEndpointKmsKey):Ref:EndpointKmsKeyId',
        'If(HasTrainingOutputKmsKey):Ref:TrainingOutputKmsKeyId',
        'If(HasTrainingVolumeKmsKey):Ref:TrainingVolumeKmsKeyId',
      ];
      expect(kms.map(({ lists: _l, ...s }) => s)).toEqual([
        {
          effect: 'Allow',
          actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey'],
          resources: keys,
          onlyIf: 'HasWorkloadKmsKey',
        },
        {
          effect: 'Allow',
          actions: ['kms:CreateGrant'],
          resources: keys,
          onlyIf: 'HasWorkloadKmsKey',
          condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        },
      ]);
      // kms:Encrypt (documented by SageMaker for OutputDataConfig.KmsKeyId) on the output key only.
      expect(
        role()
          .filter((s) => s.actions.includes('kms:Encrypt'))
          .map(({ lists: _l, ...s }) => s),
      ).toEqual([
        {
          effect: 'Allow',
          actions: ['kms:Encrypt'],
          resources: ['Ref:TrainingOutputKmsKeyId'],
          onlyIf: 'HasTrainingOutputKmsKey',
        },
      ]);
      for (const [condition, parameter] of [
        ['HasTrainingVolumeKmsKey', 'TrainingVolumeKmsKeyId'],
        ['HasTrainingOutputKmsKey', 'TrainingOutputKmsKeyId'],
        ['HasEndpointKmsKey', 'EndpointKmsKeyId'],
      ]) {
        expect(template().Conditions?.[condition]).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: parameter }, ''] }] });
        expect(template().Parameters?.[parameter]).toMatchObject({ Type: 'String', Default: '' });
      }
      // No other role of the stack may use these keys.
      for (const { where, statement: s } of allStatements()) {
        if (['SageMakerExecutionRole', 'StateMachineRole'].includes(where)) continue;
        expect({ where, keys: s.resources.filter((r) => /KmsKeyId/.test(r)) }).toEqual({ where, keys: [] });
      }
    });

    test("the security parameters reach every function's environment from the same CloudFormation parameters", () => {
      const expected = {
        VPC_SUBNET_IDS: { Ref: 'VpcSubnetIds' },
        VPC_SECURITY_GROUP_IDS: { Ref: 'VpcSecurityGroupIds' },
        TRAINING_VOLUME_KMS_KEY_ID: { Ref: 'TrainingVolumeKmsKeyId' },
        TRAINING_OUTPUT_KMS_KEY_ID: { Ref: 'TrainingOutputKmsKeyId' },
        ENDPOINT_KMS_KEY_ID: { Ref: 'EndpointKmsKeyId' },
      };
      for (const name of DEPLOYED_FUNCTIONS) {
        expect(template().Resources[`${cap(name)}LambdaFunction`].Properties.Environment.Variables).toMatchObject(
          expected,
        );
      }
    });
  });

  describe('data bucket', () => {
    const bucket = () => template().Resources.DataBucket.Properties;

    test('default encryption, versioning, all public access blocked, ACLs off', () => {
      expect(
        bucket().BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault['Fn::If'][0],
      ).toBe('HasDataKmsKey');
      expect(bucket().VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(Object.values(bucket().PublicAccessBlockConfiguration)).toEqual([true, true, true, true]);
      expect(bucket().OwnershipControls.Rules[0].ObjectOwnership).toBe('BucketOwnerEnforced');
    });

    test('run artifacts expire (param artifactExpiryDays), never the raw data', () => {
      const rules = bucket().LifecycleConfiguration.Rules;
      expect(rules.map((r) => r.Prefix)).toEqual([RUNS]);
      expect(
        (serverlessYml.resources.Resources.DataBucket.Properties as Properties).LifecycleConfiguration.Rules[0]
          .ExpirationInDays,
      ).toBe('${param:artifactExpiryDays}');
    });

    test('the bucket policy refuses plain HTTP, and refuses every role of this stack any write or delete under raw/', () => {
      const policy = Object.values(template().Resources).find(
        (r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket?.Ref === 'DataBucket',
      )!.Properties.PolicyDocument.Statement;
      expect(policy.find((s) => s.Sid === 'DenyInsecureTransport')).toMatchObject({
        Effect: 'Deny',
        Principal: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
      const raw = policy.find((s) => s.Sid === 'DenyRawWritesByPipelineRoles');
      expect(raw).toMatchObject({
        Effect: 'Deny',
        Action: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObject'],
        Resource: [{ 'Fn::Sub': `\${DataBucket.Arn}/${RAW}*` }],
      });
      const denied = raw!
        .Condition!.ArnEquals['aws:PrincipalArn'].map((p) => (p as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0])
        .sort();
      const ownRoles = Object.entries(template().Resources)
        .filter(([id, r]) => r.Type === 'AWS::IAM::Role' && !/ToStepFunctionsRole$/.test(id))
        .map(([id]) => id)
        .sort();
      expect(denied).toEqual(ownRoles);
    });

    test('no role may write or delete objects under raw/: every s3:Put*/s3:Delete* grant is under runs/', () => {
      const rawKey = 'arn:${AWS::Partition}:s3:::${DataBucket}/raw/iris.csv';
      for (const { where, statement: s } of allStatements()) {
        if (s.effect !== 'Allow') continue;
        const writes = s.actions.filter((a) => /^s3:(Put|Delete|Replicate|Restore|Abort)/.test(a) || a === 's3:*');
        // Only the capacity queue's tickets are ever deleted (README "Bursts and quotas").
        const deletes = writes.filter((a) => a.startsWith('s3:Delete'));
        if (deletes.length)
          expect({ where, deletes, resources: s.resources }).toEqual({
            where,
            deletes: ['s3:DeleteObject'],
            resources: ['arn:${AWS::Partition}:s3:::${DataBucket}/runs/_capacity/*'],
          });
        if (writes.length === 0) continue;
        for (const resource of s.resources) {
          expect({ where, resource, coversRaw: iamMatches(resource, rawKey) }).toEqual({
            where,
            resource,
            coversRaw: false,
          });
          expect({ where, resource }).toEqual({
            where,
            resource: expect.stringMatching(/^arn:\$\{AWS::Partition\}:s3:::\$\{DataBucket\}\/runs\/[^*]*\*/),
          });
        }
      }
    });
  });

  describe('template-wide', () => {
    const starGrants = () =>
      allStatements()
        .filter(({ statement: s }) => s.effect === 'Allow' && s.resources.includes('*'))
        .map(({ where, statement: s }) => ({ role: where, actions: s.actions }));

    test('no wildcard action in any Allow; the only one is the Deny of plain HTTP', () => {
      for (const { where, statement: s } of allStatements()) {
        const wild = s.actions.filter((a) => a.includes('*'));
        if (wild.length === 0) continue;
        expect({ where, effect: s.effect, wild }).toEqual({ where, effect: 'Deny', wild: ['s3:*'] });
      }
    });

    test('Resource "*" only for actions that have no resource-level permissions (AWS requires "*")', () => {
      for (const { role, actions } of starGrants()) {
        for (const action of actions)
          expect({ role, action, resourceTypes: RESOURCE_TYPES[action] }).toEqual({ role, action, resourceTypes: [] });
      }
    });

    test('the Resource "*" grants are exactly the exceptions listed in docs/security.md', () => {
      const documented = documentedStarExceptions(readFileSync(join(PROJECT_DIR, 'docs/security.md'), 'utf8'));
      const key = (e: StarException) => `${e.role} ${[...e.actions].sort().join(',')}`;
      expect(documented.map(key).sort()).toEqual(starGrants().map(key).sort());
    });

    test('docs/security.md names every IAM role of the stack', () => {
      const security = readFileSync(join(PROJECT_DIR, 'docs/security.md'), 'utf8');
      for (const [id, r] of Object.entries(template().Resources)) {
        if (r.Type === 'AWS::IAM::Role' && !/ToStepFunctionsRole$/.test(id))
          expect({ id, documented: security.includes(`\`${id}\``) }).toEqual({ id, documented: true });
      }
    });

    test('every role is assumable by one AWS service only, SageMaker and Step Functions only from this account', () => {
      for (const [id, r] of Object.entries(template().Resources)) {
        if (r.Type !== 'AWS::IAM::Role') continue;
        const statements = r.Properties.AssumeRolePolicyDocument.Statement;
        expect({ id, count: statements.length }).toEqual({ id, count: 1 });
        expect(
          typeof statements[0].Principal!.Service === 'string' || statements[0].Principal!.Service!.length === 1,
        ).toBe(true);
        if (['SageMakerExecutionRole', 'StateMachineRole'].includes(id)) {
          expect(statements[0].Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
        }
      }
    });

    const policies = locatePoliciesJson();
    (policies ? test : test.skip)(
      "the resource-type table agrees with the AWS service authorization reference (cfn-lint's copy)",
      () => {
        const reference = JSON.parse(readFileSync(policies!, 'utf8'));
        for (const [action, types] of Object.entries(RESOURCE_TYPES)) {
          const [service, name] = action.split(':');
          const entry = reference[service]?.Actions?.[name.toLowerCase()];
          expect({ action, known: entry !== undefined }).toEqual({ action, known: true });
          const referenceTypes: string[] = entry.Resources ?? [];
          if (types.length === 0) expect({ action, referenceTypes }).toEqual({ action, referenceTypes: [] });
          else
            expect({ action, subset: types.every((t) => referenceTypes.includes(t)) }).toEqual({
              action,
              subset: true,
            });
        }
        // Every action granted anywhere is in the table.
        for (const { statement: s } of allStatements()) {
          if (s.effect === 'Allow')
            for (const a of s.actions) expect({ a, inTable: a in RESOURCE_TYPES }).toEqual({ a, inTable: true });
        }
      },
    );
  });
}

/** cfn-lint's copy of the service authorization reference, when cfn-lint's Python package can be found. */
function locatePoliciesJson(): string | undefined {
  const found = spawnSync('python3', ['-c', 'import cfnlint, os; print(os.path.dirname(cfnlint.__file__))'], {
    encoding: 'utf8',
  });
  const file = found.status === 0 ? join(found.stdout.trim(), 'data', 'AdditionalSpecs', 'Policies.json') : '';
  return file && existsSync(file) ? file : undefined;
}
