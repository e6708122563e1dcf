/**
 * Packages the service once (offline, no AWS credentials) and checks the CloudFormation template and the zips:
 * runtimes, one least-privilege role per function, the IAM statements of every role, the state machine built from
 * the one definition file, the three triggers plus the janitor rule, the data bucket, and the bundles.
 */
import { testStageDefaults } from '../support/stage';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { STAGE_ENV, stageDefaultsFromEnv } from '../../src/config/stage';
import { assertValidNamePrefix } from '../../src/domain/naming';
import type { StageDefaults } from '../../src/domain/runConfig';
import {
  PROJECT_DIR,
  normaliseStatement,
  offlineEnv,
  onPath,
  readZip,
  resourceText,
  roleStatements,
  statement,
  substitute,
  trustedServices,
  withoutLists,
  type Json,
  type NormalStatement,
  type PolicyDocument,
  type Resource,
  type Template,
} from './helpers';
import { registerLeastPrivilegeTests } from './leastPrivilege';

const STAGE = 'test';
const SERVICE = 'knn-pipeline';
const PREFIX = 'knnp-test';
const KNN_IMAGE_US_EAST_1 = '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1';
const ZIP_LIMIT_BYTES = 500 * 1024;
const PACKAGE_TIMEOUT_MS = 180_000;

const FUNCTIONS = {
  prepare: { memory: 1769, timeout: 900 },
  split: { memory: 512, timeout: 60 },
  upload: { memory: 1769, timeout: 900 },
  tuning: { memory: 256, timeout: 300 },
  evaluate: { memory: 1024, timeout: 900 },
  promote: { memory: 256, timeout: 300 },
  report: { memory: 1024, timeout: 300 },
  cleanup: { memory: 256, timeout: 300 },
  janitor: { memory: 256, timeout: 300 },
  capacity: { memory: 256, timeout: 60 },
} as const;
type FunctionName = keyof typeof FUNCTIONS;
const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];
const PIPELINE_FUNCTIONS = [
  'prepare',
  'split',
  'upload',
  'tuning',
  'evaluate',
  'promote',
  'report',
  'cleanup',
  'capacity',
] as const;
const cap = (name: string) => name[0].toUpperCase() + name.slice(1);

const s3 = (suffix = '') => `arn:\${AWS::Partition}:s3:::\${DataBucket}${suffix}`;
const sageMaker = (kind: string, name = '*') =>
  `arn:\${AWS::Partition}:sagemaker:\${AWS::Region}:\${AWS::AccountId}:${kind}/${PREFIX}--${name}`;
const logs = (name: FunctionName) =>
  statement(['logs:CreateLogStream', 'logs:PutLogEvents'], [`GetAtt:${cap(name)}LogGroup.Arn`]);
const dataKey = statement(['kms:Decrypt', 'kms:GenerateDataKey'], ['Ref:DataKmsKeyArn'], { onlyIf: 'HasDataKmsKey' });
const readWriteRuns = statement(['s3:GetObject', 's3:PutObject'], [s3('/runs/*')]);
// Streamed writes (multipart, src/aws/objectWriter.ts) abort their upload when they fail.
const abortRunUploads = statement(['s3:AbortMultipartUpload'], [s3('/runs/*')]);
const listBucket = statement(['s3:ListBucket'], [s3()]);
// The kinds of SageMaker names (src/domain/naming.ts): <p>--<runId>-endpoint for runs, <p>--serving for the stable one.
const runEndpoints = sageMaker('endpoint', '*-endpoint');
const servingEndpoint = sageMaker('endpoint', 'serving');
const runConfigs = sageMaker('endpoint-config', '*-config');
const servingConfigs = sageMaker('endpoint-config', '*-serve');
const models = sageMaker('model', '*-model');
const trainingJobs = sageMaker('training-job');
const transformJobs = sageMaker('transform-job', '*-batch');
// <p>--<runId head>-<hash>, at most 32 characters (src/domain/naming.ts tuningJobName).
const tuningJobs = sageMaker('hyper-parameter-tuning-job');
// The fair capacity queue (src/aws/capacityQueue.ts): tickets under runs/_capacity/.
const listCapacityQueue = statement(['s3:ListBucket'], [s3()], {
  condition: { StringLike: { 's3:prefix': ['runs/_capacity/*'] } },
});
const releaseCapacityTickets = statement(['s3:DeleteObject'], [s3('/runs/_capacity/*')]);
const cleanupStatements = [
  statement(['sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'], [trainingJobs]),
  statement(['sagemaker:DescribeHyperParameterTuningJob', 'sagemaker:StopHyperParameterTuningJob'], [tuningJobs]),
  statement(['sagemaker:DescribeTransformJob', 'sagemaker:StopTransformJob'], [transformJobs]),
  statement(['sagemaker:DeleteEndpoint', 'sagemaker:DescribeEndpoint'], [runEndpoints]),
  statement(['sagemaker:DescribeEndpoint'], [servingEndpoint]),
  statement(['sagemaker:DeleteEndpointConfig'], [runConfigs, servingConfigs]),
  statement(['sagemaker:DescribeEndpointConfig'], [servingConfigs]),
  statement(['sagemaker:DeleteModel'], [models]),
];

/** Exactly the statements each function role must have (the handlers' SDK calls). */
const EXPECTED_FUNCTION_STATEMENTS: Record<FunctionName, ReturnType<typeof statement>[]> = {
  prepare: [
    logs('prepare'),
    statement(['s3:GetObject', 's3:GetObjectVersion'], [s3('/raw/*')]),
    readWriteRuns,
    abortRunUploads,
    listBucket,
    dataKey,
  ],
  split: [logs('split'), readWriteRuns, dataKey],
  upload: [logs('upload'), readWriteRuns, abortRunUploads, dataKey],
  tuning: [
    logs('tuning'),
    statement(['sagemaker:ListTrainingJobsForHyperParameterTuningJob'], [tuningJobs]),
    statement(['s3:PutObject'], [s3('/runs/*/tuning/trials.json')]),
    dataKey,
  ],
  evaluate: [
    logs('evaluate'),
    readWriteRuns,
    abortRunUploads,
    statement(['sagemaker:InvokeEndpoint'], [runEndpoints, servingEndpoint]),
    statement(['sagemaker:DescribeEndpoint'], [servingEndpoint]),
    dataKey,
  ],
  promote: [
    logs('promote'),
    statement(['s3:PutObject'], [s3('/runs/*/serving.json')]),
    statement(['s3:GetObject'], [s3('/runs/*/serving.json')]),
    listBucket,
    statement(['sagemaker:DeleteEndpoint', 'sagemaker:DescribeEndpoint'], [servingEndpoint]),
    statement(['sagemaker:DeleteEndpointConfig', 'sagemaker:DescribeEndpointConfig'], [servingConfigs]),
    statement(['sagemaker:DeleteModel'], [models]),
    statement(['sagemaker:ListEndpointConfigs'], ['*']),
    dataKey,
  ],
  report: [
    logs('report'),
    statement(['s3:GetObject'], [s3('/runs/*')]),
    statement(['s3:PutObject'], [s3('/runs/*/evaluation/report.html')]),
    statement(
      ['states:GetExecutionHistory'],
      ['arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:knn-pipeline-test:*'],
    ),
    dataKey,
  ],
  cleanup: [
    logs('cleanup'),
    ...cleanupStatements,
    listCapacityQueue,
    releaseCapacityTickets,
    statement(['s3:GetObject'], [s3('/runs/*/serving.json')]),
    listBucket,
    dataKey,
  ],
  capacity: [
    logs('capacity'),
    statement(['s3:PutObject'], [s3('/runs/*')]),
    listCapacityQueue,
    releaseCapacityTickets,
    statement(['sagemaker:DescribeTrainingJob'], [trainingJobs]),
    statement(['sagemaker:DescribeHyperParameterTuningJob'], [tuningJobs]),
    statement(['sagemaker:DescribeEndpoint'], [runEndpoints, servingEndpoint]),
    statement(['sagemaker:DescribeTransformJob'], [transformJobs]),
    dataKey,
  ],
  janitor: [
    logs('janitor'),
    statement(
      ['s3:GetObject'],
      [
        s3('/runs/*/claim.json'),
        s3('/runs/*/evaluation/metrics.json'),
        s3('/runs/*/serving.json'),
        s3('/runs/*/capacity/*'),
      ],
    ),
    listBucket,
    ...cleanupStatements,
    listCapacityQueue,
    releaseCapacityTickets,
    statement(
      ['events:PutEvents'],
      ['arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${NotificationBus}'],
      {
        onlyIf: 'HasNotificationBus',
        condition: {
          'ForAllValues:StringEquals': {
            'events:source': 'knn-pipeline',
            'events:detail-type': 'Pipeline Run Finished',
          },
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        },
      },
    ),
    dataKey,
  ],
};

const ec2 = (kind: string) => `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:${kind}/*`;
const workloadKeys = [
  'If(HasEndpointKmsKey):Ref:EndpointKmsKeyId',
  'If(HasTrainingOutputKmsKey):Ref:TrainingOutputKmsKeyId',
  'If(HasTrainingVolumeKmsKey):Ref:TrainingVolumeKmsKeyId',
];
const volumeKeys = [
  'If(HasEndpointKmsKey):Ref:EndpointKmsKeyId',
  'If(HasTrainingVolumeKmsKey):Ref:TrainingVolumeKmsKeyId',
];
const VPC_DESCRIBE_ACTIONS = [
  'ec2:DescribeDhcpOptions',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
];
const grantsForAwsResources = { Bool: { 'kms:GrantIsForAWSResource': 'true' } };

const EXPECTED_SAGEMAKER_ROLE_STATEMENTS = [
  statement(['s3:GetObject'], [s3('/runs/*/input/*'), s3('/runs/*/output/*')]),
  statement(['s3:ListBucket'], [s3()], { condition: { StringLike: { 's3:prefix': ['runs/*'] } } }),
  statement(['s3:PutObject'], [s3('/runs/*/output/*')]),
  statement(
    ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
    ['arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/*'],
  ),
  statement(
    ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
    ['arn:${AWS::Partition}:ecr:${AWS::Region}:${ImageAccount}:repository/knn'],
  ),
  statement(['ecr:GetAuthorizationToken'], ['*']),
  statement(['cloudwatch:PutMetricData'], ['*'], {
    condition: {
      StringEquals: {
        'cloudwatch:namespace': [
          '/aws/sagemaker/TrainingJobs',
          '/aws/sagemaker/Endpoints',
          '/aws/sagemaker/TransformJobs',
        ],
      },
    },
  }),
  dataKey,
  // Only with a VPC.
  statement(VPC_DESCRIBE_ACTIONS, ['*'], { onlyIf: 'HasVpc' }),
  statement(['ec2:CreateNetworkInterface'], [ec2('subnet')], {
    onlyIf: 'HasVpc',
    condition: { StringEquals: { 'ec2:SubnetID': { 'Fn::Split': [',', { Ref: 'VpcSubnetIds' }] } } },
  }),
  statement(['ec2:CreateNetworkInterface'], [ec2('security-group')], {
    onlyIf: 'HasVpc',
    condition: { StringEquals: { 'ec2:SecurityGroupID': { 'Fn::Split': [',', { Ref: 'VpcSecurityGroupIds' }] } } },
  }),
  statement(
    [
      'ec2:CreateNetworkInterface',
      'ec2:CreateNetworkInterfacePermission',
      'ec2:DeleteNetworkInterface',
      'ec2:DeleteNetworkInterfacePermission',
    ],
    [ec2('network-interface')],
    {
      onlyIf: 'HasVpc',
      condition: {
        ArnLikeIfExists: {
          'ec2:Subnet': {
            'Fn::Split': [
              ',',
              {
                'Fn::Join': [
                  '',
                  [
                    'arn:*:ec2:*:*:subnet/',
                    { 'Fn::Join': [',arn:*:ec2:*:*:subnet/', { 'Fn::Split': [',', { Ref: 'VpcSubnetIds' }] }] },
                  ],
                ],
              },
            ],
          },
        },
      },
    },
  ),
  // Only with KMS keys for the workloads.
  statement(['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey'], workloadKeys, { onlyIf: 'HasWorkloadKmsKey' }),
  statement(['kms:CreateGrant'], workloadKeys, { onlyIf: 'HasWorkloadKmsKey', condition: grantsForAwsResources }),
  statement(['kms:Encrypt'], ['Ref:TrainingOutputKmsKeyId'], { onlyIf: 'HasTrainingOutputKmsKey' }),
];

const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
];

const EXPECTED_STATE_MACHINE_STATEMENTS = [
  statement(
    ['lambda:InvokeFunction'],
    PIPELINE_FUNCTIONS.map((name) => `GetAtt:${cap(name)}LambdaFunction.Arn`),
  ),
  statement(
    ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob', 'sagemaker:ListTags'],
    [trainingJobs],
  ),
  statement(
    [
      'sagemaker:CreateTransformJob',
      'sagemaker:DescribeTransformJob',
      'sagemaker:StopTransformJob',
      'sagemaker:ListTags',
    ],
    [transformJobs],
  ),
  statement(
    [
      'sagemaker:CreateHyperParameterTuningJob',
      'sagemaker:DescribeHyperParameterTuningJob',
      'sagemaker:StopHyperParameterTuningJob',
      'sagemaker:ListTags',
    ],
    [tuningJobs],
  ),
  statement(['sagemaker:CreateModel'], [models]),
  statement(['sagemaker:CreateEndpointConfig'], [runConfigs, servingConfigs]),
  statement(['sagemaker:CreateEndpoint'], [runEndpoints, servingEndpoint, runConfigs, servingConfigs]),
  statement(['sagemaker:UpdateEndpoint'], [servingEndpoint, servingConfigs]),
  statement(['sagemaker:DeleteEndpoint'], [runEndpoints]),
  statement(['sagemaker:DescribeEndpoint'], [runEndpoints, servingEndpoint]),
  statement(
    ['sagemaker:AddTags'],
    [trainingJobs, transformJobs, tuningJobs, models, runConfigs, servingConfigs, runEndpoints, servingEndpoint],
  ),
  statement(
    ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
    [
      'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule',
    ],
  ),
  statement(
    ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
    [
      'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForSageMakerTransformJobsRule',
    ],
  ),
  statement(
    ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
    [
      'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForSageMakerTuningJobsRule',
    ],
  ),
  statement(['iam:PassRole'], ['GetAtt:SageMakerExecutionRole.Arn'], {
    condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
  }),
  statement(LOG_DELIVERY_ACTIONS, ['*']),
  // Only with KMS volume keys.
  statement(['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey'], volumeKeys, { onlyIf: 'HasVolumeKmsKey' }),
  statement(['kms:CreateGrant'], volumeKeys, { onlyIf: 'HasVolumeKmsKey', condition: grantsForAwsResources }),
];

/** The only IAM grants on Resource "*": actions that have no resource-level permissions. */
const EXPECTED_STAR_RESOURCES = [
  { role: 'SageMakerExecutionRole', actions: ['ecr:GetAuthorizationToken'] },
  { role: 'SageMakerExecutionRole', actions: ['cloudwatch:PutMetricData'] },
  { role: 'SageMakerExecutionRole', actions: VPC_DESCRIBE_ACTIONS },
  { role: 'StateMachineRole', actions: LOG_DELIVERY_ACTIONS },
  { role: 'PromoteFunctionRole', actions: ['sagemaker:ListEndpointConfigs'] },
];

const sortStatements = <T>(statements: T[]) =>
  [...statements].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

let workDir: string;
/** Where the packaged template and zips are: the copy's .serverless/. */
let outDir: string;
let template: Template;
let packageLog = '';
let packageStatus: number | null = null;

function resources(type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}
function fn(name: FunctionName): Resource {
  return template.Resources[`${cap(name)}LambdaFunction`];
}
function roleOf(name: FunctionName): string {
  const role = fn(name).Properties.Role;
  const text = resourceText(role);
  const match = /^\$\{(\w+)\.Arn\}$/.exec(text) ?? /^GetAtt:(\w+)\.Arn$/.exec(text);
  if (!match) throw new Error(`${name}: unexpected Role ${JSON.stringify(role)}`);
  return match[1];
}

/** Every IAM policy statement in the template, with where it came from. */
function allPolicyStatements(): { where: string; statement: NormalStatement }[] {
  const found: { where: string; statement: NormalStatement }[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const documents: PolicyDocument[] = [];
    if (resource.Type === 'AWS::IAM::Role')
      documents.push(...(resource.Properties.Policies ?? []).map((p) => p.PolicyDocument));
    if (['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::S3::BucketPolicy'].includes(resource.Type)) {
      documents.push(resource.Properties.PolicyDocument);
    }
    for (const document of documents) {
      for (const raw of document.Statement) found.push({ where: id, statement: normaliseStatement(raw) });
    }
  }
  return found;
}

/**
 * Packaging runs in a throw-away copy of the project (node_modules symlinked): Serverless empties .serverless/ and
 * serverless-esbuild uses .esbuild/ in the service directory, so packaging in place would race with a developer's
 * (or the package-lint check's) own `serverless package`.
 */
const SKIP_IN_COPY = new Set([
  'node_modules',
  '.git',
  '.serverless',
  '.esbuild',
  '.local-cloud',
  'coverage',
  'test',
  'data',
  'bench',
]);

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'knn-package-'));
  const serviceDir = join(workDir, 'service');
  outDir = join(serviceDir, '.serverless');
  mkdirSync(serviceDir);
  for (const entry of readdirSync(PROJECT_DIR)) {
    if (!SKIP_IN_COPY.has(entry)) cpSync(join(PROJECT_DIR, entry), join(serviceDir, entry), { recursive: true });
  }
  symlinkSync(join(PROJECT_DIR, 'node_modules'), join(serviceDir, 'node_modules'), 'dir');
  const child = spawn('npx', ['serverless', 'package', '--stage', STAGE], {
    cwd: serviceDir,
    env: offlineEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => (packageLog += chunk));
  child.stderr.on('data', (chunk) => (packageLog += chunk));
  packageStatus = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), PACKAGE_TIMEOUT_MS - 5_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const file = join(outDir, 'cloudformation-template-update-stack.json');
  if (existsSync(file)) template = JSON.parse(readFileSync(file, 'utf8'));
}, PACKAGE_TIMEOUT_MS);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('serverless package (offline, no AWS credentials)', () => {
  test('succeeds and writes the template and one zip per function', () => {
    if (packageStatus !== 0)
      throw new Error(`serverless package exited with ${packageStatus}:\n${packageLog.slice(-3000)}`);
    expect(template).toBeDefined();
    for (const name of FUNCTION_NAMES) expect(existsSync(join(outDir, `${name}.zip`))).toBe(true);
  });

  const lintTest = onPath('cfn-lint') ? test : test.skip;
  if (!onPath('cfn-lint')) {
    console.warn('test/deploy: cfn-lint is not on PATH, so the cfn-lint check is skipped (pip install cfn-lint)');
  }
  lintTest(
    'cfn-lint reports no error and no warning',
    () => {
      const lint = spawnSync('cfn-lint', [join(outDir, 'cloudformation-template-update-stack.json')], {
        encoding: 'utf8',
      });
      expect(`${lint.stdout}${lint.stderr}`.trim()).toBe('');
      expect(lint.status).toBe(0);
    },
    120_000,
  );
});

describe('functions', () => {
  test.each(FUNCTION_NAMES)('%s: nodejs22.x on arm64 with its memory, timeout and handler', (name) => {
    const { Properties } = fn(name);
    expect(Properties.Runtime).toBe('nodejs22.x');
    expect(Properties.Architectures).toEqual(['arm64']);
    expect(Properties.MemorySize).toBe(FUNCTIONS[name].memory);
    expect(Properties.Timeout).toBe(FUNCTIONS[name].timeout);
    expect(Properties.Handler).toBe(`functions/${name}.handler`);
    expect(Properties.FunctionName).toBe(`${SERVICE}-${STAGE}-${name}`);
  });

  test("only Upload asks for more than Lambda's 512 MB of /tmp: its shuffle keeps buckets of rows there", () => {
    const ephemeral = Object.fromEntries(
      FUNCTION_NAMES.map((name) => [
        name,
        (fn(name).Properties.EphemeralStorage as { Size?: number } | undefined)?.Size ?? 512,
      ]),
    );
    expect(ephemeral).toEqual({ ...Object.fromEntries(FUNCTION_NAMES.map((name) => [name, 512])), upload: 4096 });
  });

  test('no other Lambda function exists (no custom-resource helpers)', () => {
    expect(
      resources('AWS::Lambda::Function')
        .map(([id]) => id)
        .sort(),
    ).toEqual(FUNCTION_NAMES.map((name) => `${cap(name)}LambdaFunction`).sort());
  });

  test('each function has its own role, trusted by Lambda only; no shared default role', () => {
    const roles = FUNCTION_NAMES.map(roleOf);
    expect(roles).toEqual(FUNCTION_NAMES.map((name) => `${cap(name)}FunctionRole`));
    expect(new Set(roles).size).toBe(FUNCTION_NAMES.length);
    for (const role of roles) expect(trustedServices(template.Resources[role])).toEqual(['lambda.amazonaws.com']);
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  test('every function gets every STAGE_ENV variable, and they decode to the stage defaults', () => {
    const expected: StageDefaults = testStageDefaults({
      dataBucket: 'knn-pipeline-test-data',
      namePrefix: PREFIX,
      training: {
        ...testStageDefaults().training,
        image: KNN_IMAGE_US_EAST_1,
        roleArn: 'arn:aws:iam::123456789012:role/sagemaker',
      },
    });

    for (const name of FUNCTION_NAMES) {
      const variables = fn(name).Properties.Environment.Variables;
      for (const variable of Object.values(STAGE_ENV)) expect(Object.keys(variables)).toContain(variable);
      expect(variables.DATA_BUCKET).toEqual({ Ref: 'DataBucket' });
      expect(variables.SAGEMAKER_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['SageMakerExecutionRole', 'Arn'] });
      // The optional security settings and the notification bus come from CloudFormation parameters (the IAM
      // conditions read the same ones); every other value is a plain string.
      const fromParameters: Record<string, string> = {
        VPC_SUBNET_IDS: 'VpcSubnetIds',
        VPC_SECURITY_GROUP_IDS: 'VpcSecurityGroupIds',
        TRAINING_VOLUME_KMS_KEY_ID: 'TrainingVolumeKmsKeyId',
        TRAINING_OUTPUT_KMS_KEY_ID: 'TrainingOutputKmsKeyId',
        ENDPOINT_KMS_KEY_ID: 'EndpointKmsKeyId',
        NOTIFICATION_BUS: 'NotificationBus',
      };
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(variables)) {
        if (key === 'DATA_BUCKET' || key === 'SAGEMAKER_ROLE_ARN') continue;
        if (key in fromParameters) {
          expect({ key, value }).toEqual({ key, value: { Ref: fromParameters[key] } });
          env[key] = template.Parameters![fromParameters[key]].Default!;
        } else {
          expect({ key, type: typeof value }).toEqual({ key, type: 'string' });
          env[key] = value as string; // a string, as checked just above
        }
      }
      env.DATA_BUCKET = 'knn-pipeline-test-data'; // the name CloudFormation gives the bucket at deploy time
      env.SAGEMAKER_ROLE_ARN = 'arn:aws:iam::123456789012:role/sagemaker';
      expect(stageDefaultsFromEnv(env)).toEqual(expected);
    }
    expect(() =>
      assertValidNamePrefix(fn('prepare').Properties.Environment.Variables.NAME_PREFIX as string),
    ).not.toThrow();
  });
});

describe('IAM', () => {
  test.each(FUNCTION_NAMES)('%s role has exactly the statements its handler needs', (name) => {
    const role = template.Resources[roleOf(name)];
    expect(sortStatements(withoutLists(roleStatements(role)))).toEqual(
      sortStatements(EXPECTED_FUNCTION_STATEMENTS[name]),
    );
  });

  test('the SageMaker execution role: trusted by SageMaker, channels/artifacts/logs/image only', () => {
    const role = template.Resources.SageMakerExecutionRole;
    expect(trustedServices(role)).toEqual(['sagemaker.amazonaws.com']);
    expect(sortStatements(withoutLists(roleStatements(role)))).toEqual(
      sortStatements(EXPECTED_SAGEMAKER_ROLE_STATEMENTS),
    );
    // The ECR repository ARN names the account of the region's k-NN image.
    const ecr = role.Properties.Policies![0].PolicyDocument.Statement.find((s) =>
      s.Action!.includes('ecr:BatchGetImage'),
    );
    expect((ecr!.Resource as { 'Fn::Sub': [string, Json] }[])[0]['Fn::Sub'][1]).toEqual({
      ImageAccount: { 'Fn::Select': [0, { 'Fn::Split': ['.', KNN_IMAGE_US_EAST_1] }] },
    });
  });

  test('the state machine role: the pipeline Lambdas, the SageMaker calls of the definition, .sync rule, PassRole', () => {
    const role = template.Resources.StateMachineRole;
    expect(trustedServices(role)).toEqual(['states.amazonaws.com']);
    expect(sortStatements(withoutLists(roleStatements(role)))).toEqual(
      sortStatements(EXPECTED_STATE_MACHINE_STATEMENTS),
    );
  });

  test('the EventBridge → Step Functions roles may only start this state machine', () => {
    const starters = resources('AWS::IAM::Role').filter(([, role]) =>
      trustedServices(role).includes('events.amazonaws.com'),
    );
    expect(starters.length).toBeGreaterThanOrEqual(1);
    for (const [, role] of starters) {
      expect(withoutLists(roleStatements(role))).toEqual([
        statement(['states:StartExecution'], ['Ref:PipelineStateMachine']),
      ]);
    }
  });

  test('no wildcard action anywhere, except the Deny of plain-HTTP requests in bucket policies', () => {
    for (const { where, statement: s } of allPolicyStatements()) {
      if (!s.actions.some((action) => action.includes('*'))) continue;
      const secureTransport = (s.condition as { Bool?: Record<string, Json> } | undefined)?.Bool?.[
        'aws:SecureTransport'
      ];
      expect({ where, effect: s.effect, insecureOnly: String(secureTransport) === 'false' }).toEqual({
        where,
        effect: 'Deny',
        insecureOnly: true,
      });
    }
  });

  test('Resource "*" only for actions without resource-level permissions', () => {
    const starred = allPolicyStatements()
      .filter(({ statement: s }) => s.effect === 'Allow' && s.resources.includes('*'))
      .map(({ where, statement: s }) => ({ role: where, actions: s.actions }));
    expect(sortStatements(starred)).toEqual(
      sortStatements(EXPECTED_STAR_RESOURCES.map((e) => ({ ...e, actions: [...e.actions].sort() }))),
    );
  });

  test('Action and Resource are lists in every statement this service writes', () => {
    for (const { where, statement: s } of allPolicyStatements()) {
      if (where.startsWith('Serverless') || /EventToStepFunctionsRole|ScheduleToStepFunctionsRole/.test(where))
        continue;
      expect({ where, lists: s.lists }).toEqual({ where, lists: true });
    }
  });

  test("nothing may write or delete under raw/, and nothing deletes objects but the capacity queue's tickets", () => {
    for (const { where, statement: s } of allPolicyStatements()) {
      if (s.effect !== 'Allow') continue;
      // The fair capacity queue's tickets (README "Bursts and quotas") are the only objects ever deleted.
      const deletes = s.actions.some((action) => action.startsWith('s3:Delete'));
      if (deletes)
        expect({ where, actions: s.actions, resources: s.resources }).toEqual({
          where,
          actions: ['s3:DeleteObject'],
          resources: [s3('/runs/_capacity/*')],
        });
      if (!s.actions.some((action) => action.startsWith('s3:Put'))) continue;
      for (const resource of s.resources) {
        expect({ where, resource }).toEqual({
          where,
          resource: expect.stringMatching(/^arn:\$\{AWS::Partition\}:s3:::\$\{DataBucket\}\/runs\//),
        });
      }
    }
  });
});

describe('state machine', () => {
  const asl = readFileSync(join(PROJECT_DIR, 'statemachine/pipeline.asl.json'), 'utf8');

  test('named <service>-<stage>, with its own role and ERROR logging without execution data', () => {
    const machines = resources('AWS::StepFunctions::StateMachine');
    expect(machines.map(([id]) => id)).toEqual(['PipelineStateMachine']);
    const { Properties } = template.Resources.PipelineStateMachine;
    expect(Properties.StateMachineName).toBe(`${SERVICE}-${STAGE}`);
    expect(Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['StateMachineRole', 'Arn'] });
    expect(Properties.LoggingConfiguration).toEqual({
      Level: 'ERROR',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['StateMachineLogGroup', 'Arn'] } } }],
    });
  });

  test('the definition file uses only the custom.asl Lambda placeholders of the pipeline functions', () => {
    const placeholders = [...new Set(asl.match(/\$\{[^}]*\}/g) ?? [])].sort();
    expect(placeholders).toEqual(
      PIPELINE_FUNCTIONS.map((name) => `\${self:custom.asl.${cap(name)}FunctionArn}`).sort(),
    );
  });

  test('DefinitionString is the definition file, its placeholders resolved to the pipeline functions', () => {
    const sub = template.Resources.PipelineStateMachine.Properties.DefinitionString['Fn::Sub'];
    expect(Array.isArray(sub)).toBe(true);
    const [text, variables] = sub;
    expect(text).not.toMatch(/\$\{(self|param|opt|sls|file|env|aws):/);
    // Every ${…} left is an Fn::Sub variable bound to a function ARN.
    for (const [, name] of text.matchAll(/\$\{([^}]+)\}/g)) expect(Object.keys(variables)).toContain(name);
    const resolved = substitute(sub, (_name, intrinsic) => resourceText(intrinsic));
    expect(resolved).not.toContain('${');
    const expected = asl.replace(
      /\$\{self:custom\.asl\.(\w+)FunctionArn\}/g,
      (_whole, name) => `GetAtt:${name}LambdaFunction.Arn`,
    );
    expect(JSON.parse(resolved)).toEqual(JSON.parse(expected));
    const lambdaTasks = Object.values(JSON.parse(resolved).States as Record<string, { Resource?: unknown }>)
      .map((state) => state.Resource)
      .filter((resource) => typeof resource === 'string' && resource.startsWith('GetAtt:'));
    expect([...new Set(lambdaTasks)].sort()).toEqual(
      PIPELINE_FUNCTIONS.map((name) => `GetAtt:${cap(name)}LambdaFunction.Arn`).sort(),
    );
  });
});

describe('triggers', () => {
  const rules = () => resources('AWS::Events::Rule').map(([, rule]) => rule.Properties);

  test('exactly three EventBridge rules: S3 upload, schedule, janitor', () => {
    expect(rules()).toHaveLength(3);
  });

  test('S3 Object Created under raw/ in the data bucket starts the state machine with the whole event', () => {
    const rule = rules().find((r) => r.EventPattern?.source?.[0] === 'aws.s3')!;
    expect(rule.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [{ Ref: 'DataBucket' }] }, object: { key: [{ prefix: 'raw/' }] } },
    });
    expect(rule.State).toBe('ENABLED');
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0].Arn).toEqual({ Ref: 'PipelineStateMachine' });
    for (const key of ['Input', 'InputPath', 'InputTransformer']) expect(rule.Targets[0][key]).toBeUndefined();
  });

  test('the schedule is rate(7 days), disabled by default, and passes the default Scheduled Event', () => {
    const rule = rules().find((r) => r.ScheduleExpression)!;
    expect(rule.ScheduleExpression).toBe('rate(7 days)');
    expect(rule.State).toBe('DISABLED');
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0].Arn).toEqual({ Ref: 'PipelineStateMachine' });
    for (const key of ['Input', 'InputPath', 'InputTransformer']) expect(rule.Targets[0][key]).toBeUndefined();
  });

  test('every finished execution of this state machine invokes the janitor (cleanup after failures, notification)', () => {
    const rule = rules().find((r) => r.EventPattern?.source?.[0] === 'aws.states')!;
    expect(rule.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: [{ Ref: 'PipelineStateMachine' }],
      },
    });
    expect(rule.State).toBe('ENABLED');
    expect(rule.Targets.map((t) => t.Arn)).toEqual([{ 'Fn::GetAtt': ['JanitorLambdaFunction', 'Arn'] }]);
    const permissions = resources('AWS::Lambda::Permission').map(([, p]) => p.Properties);
    expect(permissions).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': ['JanitorLambdaFunction', 'Arn'] },
      }),
    ]);
  });
});

describe('data bucket', () => {
  const bucket = () => template.Resources.DataBucket.Properties;

  test('named by CloudFormation (globally unique) unless the dataBucketName param pins a name; kept when the stack goes', () => {
    expect(template.Parameters?.DataBucketName).toMatchObject({ Type: 'String', Default: '' });
    expect(template.Conditions?.HasDataBucketName).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'DataBucketName' }, ''] }],
    });
    expect(bucket().BucketName).toEqual({
      'Fn::If': ['HasDataBucketName', { Ref: 'DataBucketName' }, { Ref: 'AWS::NoValue' }],
    });
    expect(template.Resources.DataBucket.DeletionPolicy).toBe('Retain');
    expect(template.Resources.DataBucket.UpdateReplacePolicy).toBe('Retain');
  });

  test('default encryption: SSE-S3, or SSE-KMS when the dataKmsKeyArn param is set', () => {
    expect(template.Parameters?.DataKmsKeyArn).toMatchObject({ Type: 'String', Default: '' });
    expect(template.Conditions?.HasDataKmsKey).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'DataKmsKeyArn' }, ''] }],
    });
    expect(bucket().BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      {
        ServerSideEncryptionByDefault: {
          'Fn::If': [
            'HasDataKmsKey',
            { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { Ref: 'DataKmsKeyArn' } },
            { SSEAlgorithm: 'AES256' },
          ],
        },
        BucketKeyEnabled: { 'Fn::If': ['HasDataKmsKey', true, false] },
      },
    ]);
  });

  test('versioned, all public access blocked, ACLs off, EventBridge notifications on', () => {
    expect(bucket().VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket().PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket().OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket().NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
  });

  test('run artifacts under runs/ expire after 30 days', () => {
    const rules = bucket().LifecycleConfiguration.Rules;
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ Status: 'Enabled', Prefix: 'runs/' });
    expect(Number(rules[0].ExpirationInDays)).toBe(30);
  });

  test('the bucket policy denies every request that is not TLS, and every write or delete under raw/ by a role of this stack', () => {
    const policies = resources('AWS::S3::BucketPolicy').filter(([, p]) => p.Properties.Bucket?.Ref === 'DataBucket');
    expect(policies).toHaveLength(1);
    expect(policies[0][1].Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:*'],
        Resource: [{ 'Fn::GetAtt': ['DataBucket', 'Arn'] }, { 'Fn::Sub': '${DataBucket.Arn}/*' }],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'DenyRawWritesByPipelineRoles',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObject'],
        Resource: [{ 'Fn::Sub': '${DataBucket.Arn}/raw/*' }],
        Condition: {
          ArnEquals: {
            'aws:PrincipalArn': [
              ...FUNCTION_NAMES.filter((name) => name !== 'janitor').map((name) => ({
                'Fn::GetAtt': [`${cap(name)}FunctionRole`, 'Arn'],
              })),
              { 'Fn::GetAtt': ['JanitorFunctionRole', 'Arn'] },
              { 'Fn::GetAtt': ['SageMakerExecutionRole', 'Arn'] },
              { 'Fn::GetAtt': ['StateMachineRole', 'Arn'] },
            ],
          },
        },
      },
    ]);
  });
});

registerLeastPrivilegeTests(() => template);

describe('bundles', () => {
  test.each(FUNCTION_NAMES)('%s.zip is under 500 KB and holds the bundled handler and its source map', (name) => {
    const zipFile = join(outDir, `${name}.zip`);
    expect(statSync(zipFile).size).toBeLessThan(ZIP_LIMIT_BYTES);
    const files = readZip(zipFile);
    expect([...files.keys()].sort()).toEqual([`functions/${name}.js`, `functions/${name}.js.map`]);
    const map = JSON.parse(files.get(`functions/${name}.js.map`)!.toString('utf8'));
    expect(map.sources.some((source: string) => source.endsWith(`functions/${name}.ts`))).toBe(true);
  });

  test('every bundle loads in plain Node and exports handler() (AWS SDK bundled, nothing external)', () => {
    const loadDir = join(workDir, 'load');
    for (const name of FUNCTION_NAMES) {
      for (const [file, content] of readZip(join(outDir, `${name}.zip`))) {
        mkdirSync(dirname(join(loadDir, name, file)), { recursive: true });
        writeFileSync(join(loadDir, name, file), content);
      }
      const bundle = join(loadDir, name, 'functions', `${name}.js`);
      // Loaded outside the project (no node_modules to fall back on); any non-builtin require is reported.
      const script = [
        "const Module = require('node:module');",
        'const external = [];',
        'const original = Module.prototype.require;',
        'Module.prototype.require = function (id) {',
        "  if (!Module.isBuiltin(id) && !id.startsWith('.') && !id.startsWith('/')) external.push(id);",
        '  return original.apply(this, arguments);',
        '};',
        `const loaded = require(${JSON.stringify(bundle)});`,
        "if (external.length > 0) { console.error('external modules: ' + external.join(', ')); process.exit(4); }",
        "if (typeof loaded.handler !== 'function') { console.error('no handler export'); process.exit(3); }",
      ].join('\n');
      const check = spawnSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        cwd: tmpdir(),
        env: { ...process.env, NODE_PATH: '', NODE_OPTIONS: '' },
      });
      expect({ name, status: check.status, stderr: check.stderr }).toEqual({ name, status: 0, stderr: '' });
    }
  });
});
