import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

export const PROJECT_DIR = `${__dirname}/../..`;

/** The files of a .zip (stored or deflated entries), read from its central directory. */
export function readZip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  if (eocd < 0) throw new Error(`${file}: no end of central directory`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    if (!name.endsWith('/')) files.set(name, method === 0 ? Buffer.from(data) : inflateRawSync(data));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

export function onPath(command: string): boolean {
  return spawnSync(command, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** The environment for an offline, credential-free `serverless package`. */
export function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (
      /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE|WEB_IDENTITY_TOKEN_FILE|ROLE_ARN|CONTAINER_CREDENTIALS_.*)$/.test(
        name,
      )
    ) {
      delete env[name];
    }
  }
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CloudFormation helpers
// ---------------------------------------------------------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/**
 * One entry of an IAM Statement list as written in a template: a statement (Action and Resource one value or a
 * list), or `Fn::If [condition, statement, AWS::NoValue]` for a statement that exists only under a condition.
 */
export interface RawStatement {
  Sid?: string;
  Effect?: 'Allow' | 'Deny';
  Principal?: { Service?: string | string[]; AWS?: Json };
  Action?: string | string[];
  Resource?: Json;
  Condition?: Record<string, Record<string, Json[]>>;
  'Fn::If'?: [string, RawStatement, Json];
}
export interface PolicyDocument {
  Version?: string;
  Statement: RawStatement[];
}

/**
 * The CloudFormation properties these checks navigate into, each of the resource type that has it (read on another
 * type it is undefined, and the expectation fed by it fails); the rest are compared whole, as `unknown`.
 */
export interface Properties {
  Role: Json;
  Handler: string;
  Policies?: { PolicyName: string; PolicyDocument: PolicyDocument }[];
  PolicyDocument: PolicyDocument;
  AssumeRolePolicyDocument: PolicyDocument;
  Environment: { Variables: Record<string, Json> };
  Bucket?: { Ref?: string };
  BucketName: string;
  BucketEncryption: { ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: Record<string, Json[]> }[] };
  PublicAccessBlockConfiguration: Record<string, boolean>;
  OwnershipControls: { Rules: { ObjectOwnership: string }[] };
  LifecycleConfiguration: { Rules: { Prefix?: string; ExpirationInDays?: Json; Status?: string }[] };
  DefinitionString: { 'Fn::Sub': [string, Record<string, Json>] };
  EventPattern: { source?: string[]; 'detail-type'?: string[]; detail?: Record<string, Json> };
  Targets: Record<string, Json>[];
  State: string;
  [property: string]: unknown;
}
export interface Resource {
  Type: string;
  Properties: Properties;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  [attribute: string]: unknown;
}
export interface Template {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Type: string; Default?: string; [field: string]: Json | undefined }>;
  Conditions?: Record<string, Json>;
  Outputs?: Record<string, Record<string, Json>>;
}

/** A readable, comparable string for an IAM Resource entry (plain string or intrinsic). */
export function resourceText(value: Json): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('Fn::Sub' in value && typeof value['Fn::Sub'] === 'string') return value['Fn::Sub'];
    if ('Fn::Sub' in value && Array.isArray(value['Fn::Sub']) && typeof value['Fn::Sub'][0] === 'string')
      return value['Fn::Sub'][0];
    if ('Fn::GetAtt' in value && Array.isArray(value['Fn::GetAtt'])) return `GetAtt:${value['Fn::GetAtt'].join('.')}`;
    if ('Ref' in value) return `Ref:${String(value.Ref)}`;
    // A resource that exists only under a condition: Fn::If [condition, resource, AWS::NoValue].
    if (
      'Fn::If' in value &&
      Array.isArray(value['Fn::If']) &&
      (value['Fn::If'][2] as { Ref?: Json } | null)?.Ref === 'AWS::NoValue'
    ) {
      return `If(${String(value['Fn::If'][0])}):${resourceText(value['Fn::If'][1])}`;
    }
  }
  return JSON.stringify(value);
}

export interface NormalStatement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  condition?: Json;
  /** Set when the statement only exists under a CloudFormation condition (Fn::If [name, statement, AWS::NoValue]). */
  onlyIf?: string;
  /** Whether Action and Resource were written as lists. */
  lists: boolean;
}

export function normaliseStatement(raw: RawStatement): NormalStatement {
  let onlyIf: string | undefined;
  let statement = raw;
  if (raw && typeof raw === 'object' && 'Fn::If' in raw) {
    const [condition, whenTrue, whenFalse] = raw['Fn::If']!;
    if (!(whenFalse && (whenFalse as { Ref?: Json }).Ref === 'AWS::NoValue'))
      throw new Error(`unexpected Fn::If statement ${JSON.stringify(raw)}`);
    onlyIf = condition;
    statement = whenTrue;
  }
  const actions = ([] as string[]).concat(statement.Action!).sort();
  const resources = ([] as Json[]).concat(statement.Resource!).map(resourceText).sort();
  return {
    effect: statement.Effect!,
    actions,
    resources,
    ...(statement.Condition ? { condition: statement.Condition } : {}),
    ...(onlyIf ? { onlyIf } : {}),
    lists: Array.isArray(statement.Action) && Array.isArray(statement.Resource),
  };
}

/** Every inline policy statement of an AWS::IAM::Role, normalised. */
export function roleStatements(resource: Resource): NormalStatement[] {
  return (resource.Properties.Policies ?? []).flatMap((policy) =>
    policy.PolicyDocument.Statement.map((statement) => normaliseStatement(statement)),
  );
}

export function trustedServices(resource: Resource): string[] {
  return resource.Properties.AssumeRolePolicyDocument.Statement.map(
    (statement) => statement.Principal!.Service as string,
  );
}

/** A statement written the way the expectations below are: actions and resources, sorted. */
export function statement(
  actions: string[],
  resources: string[],
  extra: { condition?: Json; onlyIf?: string; effect?: 'Allow' | 'Deny' } = {},
): Omit<NormalStatement, 'lists'> {
  return {
    effect: extra.effect ?? 'Allow',
    actions: [...actions].sort(),
    resources: [...resources].sort(),
    ...(extra.condition ? { condition: extra.condition } : {}),
    ...(extra.onlyIf ? { onlyIf: extra.onlyIf } : {}),
  };
}

export function withoutLists(statements: NormalStatement[]): Omit<NormalStatement, 'lists'>[] {
  return statements.map(({ lists: _lists, ...rest }) => rest);
}

/** Fn::Sub [text, variables] → text with the variables replaced by `value(name, intrinsic)`. */
export function substitute(
  sub: [string, Record<string, Json>],
  value: (name: string, intrinsic: Json) => string,
): string {
  const [text, variables] = sub;
  return text.replace(/\$\{([^}]+)\}/g, (whole, name: string) =>
    name in variables ? value(name, variables[name]) : whole,
  );
}
