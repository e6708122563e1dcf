import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { generatedRoleName } from './principals';

/**
 * The IAM policies of the stack as CloudFormation would deploy them for the local stage: serverless.yml and the files
 * it includes, Serverless variables resolved by `serverless print --stage local` (offline, no bundling), then the
 * CloudFormation intrinsics resolved here for the local account, region and stage. The result is cached under
 * .local-cloud/ keyed by a hash of its inputs, so a start without a template change costs a file read.
 */

export const PROJECT_DIR = path.resolve(__dirname, '..', '..');

/** The local stage (LOCAL in local/cloud.ts). */
export interface StackContext {
  account: string;
  region: string;
  partition: string;
  service: string;
  stage: string;
  /**
   * Physical names the local deployment fixes, by logical id: the local S3 serves the data bucket as LOCAL.bucket
   * whatever name (or CloudFormation-generated name) the template gives it.
   */
  physicalNames: Record<string, string>;
}

export const LOCAL_STACK: StackContext = {
  account: '000000000000',
  region: 'us-east-1',
  partition: 'aws',
  service: 'knn-pipeline',
  stage: 'local',
  physicalNames: { DataBucket: 'knn-pipeline-local-data' },
};

export interface PolicyDocument {
  Version?: string;
  Statement: Record<string, unknown>[];
}

export interface ResolvedRole {
  logicalId: string;
  arn: string;
  trustPolicy: PolicyDocument;
  policies: { name: string; document: PolicyDocument }[];
}

export interface ResolvedPolicies {
  /** The data bucket's name (DataBucket's BucketName). */
  bucket: string;
  /** DataBucketPolicy's document: the resource policy of every request on the data bucket. */
  bucketPolicy: PolicyDocument;
  /** Every AWS::IAM::Role of the template by logical id. */
  roles: Record<string, ResolvedRole>;
}

type Json = unknown;
type Template = {
  Parameters?: Record<string, { Default?: Json }>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, { Type: string; Properties?: Record<string, Json> }>;
};

/** Marks a value CloudFormation drops (Ref AWS::NoValue). */
const NO_VALUE = Symbol('AWS::NoValue');

class TemplateError extends Error {
  constructor(message: string) {
    super(`local IAM template: ${message}`);
    this.name = 'TemplateError';
  }
}

/** Resolves CloudFormation intrinsic functions against one stack: its parameters' defaults, conditions and names. */
export class IntrinsicResolver {
  private readonly conditionCache = new Map<string, boolean>();

  constructor(
    private readonly template: Template,
    private readonly stack: StackContext,
    private readonly functionNames: string[],
    private readonly parameterValues: Record<string, string> = {},
  ) {}

  private get stackName(): string {
    return `${this.stack.service}-${this.stack.stage}`;
  }

  private pseudo(name: string): Json {
    switch (name) {
      case 'AWS::AccountId':
        return this.stack.account;
      case 'AWS::Region':
        return this.stack.region;
      case 'AWS::Partition':
        return this.stack.partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:${this.stack.partition}:cloudformation:${this.stack.region}:${this.stack.account}:stack/${this.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
      default:
        throw new TemplateError(`unsupported pseudo parameter ${name}`);
    }
  }

  /** The function a Serverless-generated logical id (PrepareLambdaFunction, PrepareLogGroup) belongs to. */
  private generatedFunction(logicalId: string, suffix: string): string | undefined {
    if (!logicalId.endsWith(suffix)) return undefined;
    const head = logicalId.slice(0, -suffix.length);
    return this.functionNames.find((name) => name.charAt(0).toUpperCase() + name.slice(1) === head);
  }

  private arn(service: string, resource: string, region = this.stack.region, account = this.stack.account): string {
    return `arn:${this.stack.partition}:${service}:${region}:${account}:${resource}`;
  }

  ref(name: string): Json {
    if (name.startsWith('AWS::')) return this.pseudo(name);
    const parameter = this.template.Parameters?.[name];
    if (parameter) {
      if (name in this.parameterValues) return this.parameterValues[name];
      if (parameter.Default === undefined) throw new TemplateError(`parameter ${name} has no default`);
      return parameter.Default;
    }
    const resource = this.template.Resources[name];
    if (resource && name in this.stack.physicalNames) return this.stack.physicalNames[name];
    if (resource) {
      const properties = resource.Properties ?? {};
      switch (resource.Type) {
        case 'AWS::S3::Bucket':
          return this.resolve(properties.BucketName);
        case 'AWS::IAM::Role':
          return generatedRoleName(name);
        case 'AWS::Logs::LogGroup':
          return this.resolve(properties.LogGroupName);
        default:
          throw new TemplateError(`Ref of ${resource.Type} ${name} is not supported`);
      }
    }
    const lambda = this.generatedFunction(name, 'LambdaFunction');
    if (lambda) return `${this.stackName}-${lambda}`;
    const logGroup = this.generatedFunction(name, 'LogGroup');
    if (logGroup) return `/aws/lambda/${this.stackName}-${logGroup}`;
    if (name === 'PipelineStateMachine') return this.arn('states', `stateMachine:${this.stackName}`);
    throw new TemplateError(`Ref of unknown logical id ${name}`);
  }

  getAtt(name: string, attribute: string): Json {
    if (attribute !== 'Arn') throw new TemplateError(`Fn::GetAtt ${name}.${attribute} is not supported`);
    const resource = this.template.Resources[name];
    if (resource?.Type === 'AWS::S3::Bucket') return `arn:${this.stack.partition}:s3:::${String(this.ref(name))}`;
    if (resource?.Type === 'AWS::IAM::Role') {
      return `arn:${this.stack.partition}:iam::${this.stack.account}:role/${generatedRoleName(name)}`;
    }
    const lambda = this.generatedFunction(name, 'LambdaFunction');
    if (lambda) return this.arn('lambda', `function:${String(this.ref(name))}`);
    if (resource?.Type === 'AWS::Logs::LogGroup' || this.generatedFunction(name, 'LogGroup')) {
      return this.arn('logs', `log-group:${String(this.ref(name))}:*`);
    }
    if (name === 'PipelineStateMachine') return this.ref(name);
    throw new TemplateError(`Fn::GetAtt of unknown resource ${name}`);
  }

  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new TemplateError(`unknown condition ${name}`);
    const value = this.resolve(definition);
    if (typeof value !== 'boolean') throw new TemplateError(`condition ${name} is not a boolean`);
    this.conditionCache.set(name, value);
    return value;
  }

  private sub(template: string, variables: Record<string, Json>): string {
    return template.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in variables) return String(this.resolve(variables[name]));
      const dot = name.indexOf('.');
      const value =
        dot > 0 && !name.startsWith('AWS::') ? this.getAtt(name.slice(0, dot), name.slice(dot + 1)) : this.ref(name);
      if (value === NO_VALUE) throw new TemplateError(`Fn::Sub of ${whole} has no value`);
      return String(value);
    });
  }

  private list(value: Json, fn: string): Json[] {
    const resolved = this.resolve(value);
    if (!Array.isArray(resolved)) throw new TemplateError(`${fn} expects a list`);
    return resolved;
  }

  private intrinsic(fn: string, args: Json): Json {
    switch (fn) {
      case 'Ref':
        return this.ref(String(args));
      case 'Condition':
        return this.condition(String(args));
      case 'Fn::GetAtt': {
        const [name, attribute] = Array.isArray(args) ? args : String(args).split('.');
        return this.getAtt(String(name), String(attribute));
      }
      case 'Fn::Sub': {
        if (typeof args === 'string') return this.sub(args, {});
        const [template, variables] = args as [string, Record<string, Json>];
        return this.sub(template, variables ?? {});
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = args as [string, Json, Json];
        return this.resolve(this.condition(condition) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [left, right] = this.list(args, fn);
        return JSON.stringify(left) === JSON.stringify(right);
      }
      case 'Fn::Not':
        return !this.list(args, fn)[0];
      case 'Fn::And':
        return this.list(args, fn).every(Boolean);
      case 'Fn::Or':
        return this.list(args, fn).some(Boolean);
      case 'Fn::Join': {
        const [separator, items] = args as [string, Json];
        return this.list(items, fn).join(separator);
      }
      case 'Fn::Split': {
        const [separator, text] = args as [string, Json];
        return String(this.resolve(text)).split(separator);
      }
      case 'Fn::Select': {
        const [index, items] = args as [Json, Json];
        const list = this.list(items, fn);
        const at = Number(this.resolve(index));
        if (!(at >= 0 && at < list.length)) throw new TemplateError(`Fn::Select index ${at} out of range`);
        return list[at];
      }
      default:
        throw new TemplateError(`unsupported intrinsic ${fn}`);
    }
  }

  /** The value with every intrinsic resolved; AWS::NoValue entries dropped from lists and objects. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item)).filter((item) => item !== NO_VALUE);
    if (value && typeof value === 'object') {
      const entries = Object.entries(value);
      if (
        entries.length === 1 &&
        (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::') || entries[0][0] === 'Condition')
      ) {
        return this.intrinsic(entries[0][0], entries[0][1]);
      }
      const out: Record<string, Json> = {};
      for (const [key, item] of entries) {
        const resolved = this.resolve(item);
        if (resolved !== NO_VALUE) out[key] = resolved;
      }
      return out;
    }
    return value;
  }
}

function asDocument(value: Json, where: string): PolicyDocument {
  const document = value as PolicyDocument;
  if (!document || !Array.isArray(document.Statement)) throw new TemplateError(`${where} has no Statement list`);
  return document;
}

/** The printed serverless.yml (variables resolved) → the role policies and bucket policy, intrinsics resolved. */
export function resolvePolicies(
  printed: { functions?: Record<string, unknown>; resources: Template },
  stack: StackContext = LOCAL_STACK,
): ResolvedPolicies {
  const template = printed.resources;
  const resolver = new IntrinsicResolver(template, stack, Object.keys(printed.functions ?? {}));
  const roles: Record<string, ResolvedRole> = {};
  let bucket: string | undefined;
  let bucketPolicy: PolicyDocument | undefined;
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::IAM::Role') {
      const properties = resource.Properties ?? {};
      const policies = (
        resolver.resolve(properties.Policies ?? []) as { PolicyName: string; PolicyDocument: Json }[]
      ).map((policy) => ({
        name: policy.PolicyName,
        document: asDocument(policy.PolicyDocument, `${logicalId} ${policy.PolicyName}`),
      }));
      if (properties.ManagedPolicyArns) throw new TemplateError(`${logicalId}: managed policies are not supported`);
      roles[logicalId] = {
        logicalId,
        arn: String(resolver.getAtt(logicalId, 'Arn')),
        trustPolicy: asDocument(resolver.resolve(properties.AssumeRolePolicyDocument), `${logicalId} trust policy`),
        policies,
      };
    } else if (resource.Type === 'AWS::S3::BucketPolicy' && logicalId === 'DataBucketPolicy') {
      bucketPolicy = asDocument(resolver.resolve(resource.Properties?.PolicyDocument), logicalId);
    } else if (resource.Type === 'AWS::S3::Bucket' && logicalId === 'DataBucket') {
      bucket = String(resolver.ref(logicalId));
    }
  }
  if (!bucket || !bucketPolicy) throw new TemplateError('DataBucket and DataBucketPolicy are required');
  return { bucket, bucketPolicy, roles };
}

// --- loading and caching -------------------------------------------------------------------------------------------

/** Bump when resolvePolicies changes what it produces, so old cache entries are not reused. */
const CACHE_FORMAT = 2;

function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .sort()
    .flatMap((name) => {
      const full = path.join(directory, name);
      return statSync(full).isDirectory() ? filesUnder(full) : [full];
    });
}

/** The files serverless.yml's IAM depends on: serverless.yml, resources/**, scripts/serverless-vars.js. */
export function templateInputs(projectDir = PROJECT_DIR): string[] {
  return [
    path.join(projectDir, 'serverless.yml'),
    ...filesUnder(path.join(projectDir, 'resources')),
    path.join(projectDir, 'scripts', 'serverless-vars.js'),
  ];
}

/**
 * The stage params that can change a policy: those the resource files or the variables script read. Any other param
 * (k, sampleSize, serve, …) only reaches the Lambda environment, so it neither triggers a new print nor a cache miss.
 */
export function policyParams(
  params: Record<string, string | undefined>,
  projectDir = PROJECT_DIR,
): Record<string, string> {
  const text = templateInputs(projectDir)
    .filter((file) => !file.endsWith('serverless.yml'))
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  const relevant: Record<string, string> = {};
  for (const [name, value] of Object.entries(params).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === undefined || !/^\w+$/.test(name)) continue;
    // `${param:name}` in a resource file, or the name as a string or key in the variables script.
    if (new RegExp(`param:${name}\\b|['"\`]${name}['"\`]|\\b${name}:`).test(text)) relevant[name] = value;
  }
  return relevant;
}

export function cacheKey(params: Record<string, string>, projectDir = PROJECT_DIR): string {
  const hash = createHash('sha256').update(`format:${CACHE_FORMAT}\n`);
  for (const file of templateInputs(projectDir)) {
    hash
      .update(`${path.relative(projectDir, file)}\n`)
      .update(readFileSync(file))
      .update('\n');
  }
  hash.update(JSON.stringify(params));
  return hash.digest('hex').slice(0, 32);
}

const execFileAsync = promisify(execFile);

/** `serverless print --stage local --format json` (Serverless variables resolved, offline, no packaging). */
async function printTemplate(params: Record<string, string>, projectDir: string): Promise<Json> {
  const bin = path.join(projectDir, 'node_modules', '.bin', 'serverless');
  const args = [
    'print',
    '--stage',
    LOCAL_STACK.stage,
    '--region',
    LOCAL_STACK.region,
    '--format',
    'json',
    ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`),
  ];
  const { stdout } = await execFileAsync(bin, args, {
    cwd: projectDir,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  const start = stdout.indexOf('{');
  if (start < 0) throw new TemplateError(`serverless print produced no JSON: ${stdout.slice(0, 200)}`);
  return JSON.parse(stdout.slice(start)) as Json;
}

export interface LoadPoliciesOptions {
  /** Stage params (serverless.yml params) given to the local cloud; only the policy-relevant ones are used. */
  params?: Record<string, string | undefined>;
  projectDir?: string;
  /** Where resolved policies are cached; .local-cloud/iam in the project by default. */
  cacheDir?: string;
}

const inFlight = new Map<string, Promise<ResolvedPolicies>>();

/** The stack's policies for the local stage: from the cache, or printed and resolved (then cached). */
export function loadPolicies(options: LoadPoliciesOptions = {}): Promise<ResolvedPolicies> {
  const projectDir = options.projectDir ?? PROJECT_DIR;
  const params = policyParams(options.params ?? {}, projectDir);
  const key = cacheKey(params, projectDir);
  const cacheDir = options.cacheDir ?? path.join(projectDir, '.local-cloud', 'iam');
  const file = path.join(cacheDir, `policies-${key}.json`);
  const pending = inFlight.get(file);
  if (pending) return pending;
  const load = (async () => {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ResolvedPolicies;
    const printed = (await printTemplate(params, projectDir)) as Parameters<typeof resolvePolicies>[0];
    const resolved = resolvePolicies(printed);
    mkdirSync(cacheDir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(resolved, null, 2));
    renameSync(temporary, file); // atomic: parallel starts never read half a file
    return resolved;
  })();
  inFlight.set(file, load);
  load.catch(() => inFlight.delete(file));
  return load;
}

// --- test support ---------------------------------------------------------------------------------------------------

function asList(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * A copy of `policies` in which one role's identity policies no longer allow `action` (on `resource` only, when
 * given): the action is dropped from every Allow statement that names it (and the statement with it, if it was the
 * only one); with a resource, the statement keeps the action on its other resources. Exact strings only — no
 * wildcard matching. Throws when no statement grants it, so a test cannot silently remove nothing.
 */
export function withoutPermission(
  policies: ResolvedPolicies,
  roleLogicalId: string,
  action: string,
  resource?: string,
): ResolvedPolicies {
  const copy = structuredClone(policies);
  const role = copy.roles[roleLogicalId];
  if (!role) throw new Error(`withoutPermission: the template has no role ${roleLogicalId}`);
  let removed = false;
  for (const policy of role.policies) {
    policy.document.Statement = policy.document.Statement.flatMap((statement) => {
      const actions = asList(statement.Action);
      const resources = asList(statement.Resource);
      if (statement.Effect !== 'Allow' || !actions.includes(action)) return [statement];
      if (resource !== undefined && !resources.includes(resource)) return [statement];
      removed = true;
      const kept: Record<string, unknown>[] = [];
      const otherActions = actions.filter((a) => a !== action);
      if (otherActions.length > 0) kept.push({ ...statement, Action: otherActions });
      const otherResources = resources.filter((r) => r !== resource);
      if (resource !== undefined && otherResources.length > 0) {
        const sid = typeof statement.Sid === 'string' ? { Sid: `${statement.Sid}Rest` } : {};
        kept.push({ ...statement, ...sid, Action: [action], Resource: otherResources });
      }
      return kept;
    });
  }
  if (!removed) {
    throw new Error(
      `withoutPermission: no Allow statement of ${roleLogicalId} grants ${action}${resource ? ` on ${resource}` : ''}`,
    );
  }
  return copy;
}
