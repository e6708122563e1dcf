import { createHash } from 'node:crypto';

/**
 * The principals of the local cloud and their local credentials. Each deployed role of the stack (one per function,
 * the state machine's, the SageMaker execution role) plus the person at the keyboard gets its own deterministic
 * access key, so the local services can resolve the SigV4 access key of every request to its principal, as AWS
 * does for STS-issued keys. Kept free of other local/ imports: Lambda worker threads import it.
 */

/** The local stage (LOCAL in local/cloud.ts): account, region, stack name. */
const ACCOUNT = '000000000000';
const STACK = 'knn-pipeline-local';

/** The functions of serverless.yml, by their key there. */
export const FUNCTION_NAMES = [
  'prepare',
  'capacity',
  'split',
  'upload',
  'tuning',
  'evaluate',
  'promote',
  'report',
  'cleanup',
  'janitor',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export type PrincipalId = 'user' | `function:${FunctionName}` | 'stateMachine' | 'sageMaker';

export const PRINCIPAL_IDS: readonly PrincipalId[] = [
  'user',
  ...FUNCTION_NAMES.map((name) => `function:${name}` as const),
  'stateMachine',
  'sageMaker',
];

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Principal {
  id: PrincipalId;
  /** The AWS::IAM::Role's logical id in the template; undefined for the user (full access, no role). */
  roleLogicalId?: string;
  /** The role's name as CloudFormation generates it (no RoleName in the template): <stack>-<logicalId>-<suffix>. */
  roleName?: string;
  /** arn:aws:iam::<account>:role/<roleName>, or the user's ARN. */
  arn: string;
  /** The ARN requests are made with: the assumed-role session (sts) for roles, the user's ARN for the user. */
  sessionArn: string;
  /** The session name of the assumed role (Lambda: the function name; SageMaker: "SageMaker"). */
  sessionName?: string;
  /** The service principal the role's trust policy must allow (lambda / states / sagemaker .amazonaws.com). */
  service?: string;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(`knn-pipeline-local-iam:${text}`).digest();
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += BASE32[bytes[i % bytes.length] % 32];
  return out;
}

/** The 13-character suffix CloudFormation appends to generated names; here derived from the logical id. */
function generatedSuffix(logicalId: string): string {
  return base32(digest(`suffix:${logicalId}`), 13);
}

/** CloudFormation's generated role name: stack name, logical id and a random suffix, at most 64 characters. */
export function generatedRoleName(logicalId: string): string {
  const suffix = generatedSuffix(logicalId);
  const room = 64 - suffix.length - 2;
  const head = `${STACK}-${logicalId}`;
  return `${head.slice(0, room)}-${suffix}`;
}

function capitalise(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function rolePrincipal(id: PrincipalId, roleLogicalId: string, sessionName: string, service: string): Principal {
  const roleName = generatedRoleName(roleLogicalId);
  return {
    id,
    roleLogicalId,
    roleName,
    arn: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
    sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${sessionName}`,
    sessionName,
    service,
  };
}

function buildPrincipal(id: PrincipalId): Principal {
  if (id === 'user') {
    const arn = `arn:aws:iam::${ACCOUNT}:user/local-developer`;
    return { id, arn, sessionArn: arn };
  }
  if (id === 'stateMachine') return rolePrincipal(id, 'StateMachineRole', 'StatesExecution', 'states.amazonaws.com');
  if (id === 'sageMaker') return rolePrincipal(id, 'SageMakerExecutionRole', 'SageMaker', 'sagemaker.amazonaws.com');
  const name = id.slice('function:'.length);
  return rolePrincipal(id, `${capitalise(name)}FunctionRole`, `${STACK}-${name}`, 'lambda.amazonaws.com');
}

const PRINCIPALS = new Map<PrincipalId, Principal>(PRINCIPAL_IDS.map((id) => [id, buildPrincipal(id)]));

export function principal(id: PrincipalId): Principal {
  const found = PRINCIPALS.get(id);
  if (!found) throw new Error(`unknown local principal ${id}`);
  return found;
}

export function principals(): Principal[] {
  return [...PRINCIPALS.values()];
}

export function isPrincipalId(value: string): value is PrincipalId {
  return PRINCIPALS.has(value as PrincipalId);
}

/** The principal a function acts as: "prepare", "Prepare" or the deployed name knn-pipeline-local-prepare. */
export function functionPrincipal(name: string): PrincipalId {
  const short = name.replace(/^knn-pipeline-local-/, '').toLowerCase();
  if (!(FUNCTION_NAMES as readonly string[]).includes(short)) throw new Error(`unknown function ${name}`);
  return `function:${short as FunctionName}`;
}

/**
 * Deterministic local credentials: user keys start with AKIA (a long-term IAM user key), role sessions with ASIA and
 * carry a session token (STS-issued), as in AWS.
 */
export function credentialsFor(id: PrincipalId): LocalCredentials {
  principal(id); // unknown ids throw
  const bytes = digest(`credentials:${id}`);
  const accessKeyId = `${id === 'user' ? 'AKIA' : 'ASIA'}LOCAL${base32(bytes, 11)}`;
  const secretAccessKey = createHash('sha256').update(bytes).update('secret').digest('base64').slice(0, 40);
  if (id === 'user') return { accessKeyId, secretAccessKey };
  const sessionToken = `local-session/${id}/${bytes.toString('base64url')}`;
  return { accessKeyId, secretAccessKey, sessionToken };
}

/**
 * The access key the process environment carried before principals existed (LOCAL.accessKeyId, test/setup-env.ts):
 * until every handler runs with its own function's credentials, requests signed with it are the user's.
 */
export const LEGACY_ACCESS_KEY = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

const BY_ACCESS_KEY = new Map<string, PrincipalId>([
  ...PRINCIPAL_IDS.map((id) => [credentialsFor(id).accessKeyId, id] as const),
  [LEGACY_ACCESS_KEY.accessKeyId, 'user'],
]);

/** The principal an access key belongs to; undefined for a key the local cloud never issued. */
export function principalForAccessKey(accessKeyId: string): PrincipalId | undefined {
  return BY_ACCESS_KEY.get(accessKeyId);
}

/** Every key pair the local services must accept (the legacy key included), e.g. for s3rver's key registry. */
export function allCredentials(): { accessKeyId: string; secretAccessKey: string }[] {
  return [
    ...PRINCIPAL_IDS.map((id) => {
      const { accessKeyId, secretAccessKey } = credentialsFor(id);
      return { accessKeyId, secretAccessKey };
    }),
    { ...LEGACY_ACCESS_KEY },
  ];
}

/** The environment variables Lambda gives a handler for its role's credentials. */
export function credentialEnvironment(id: PrincipalId): Record<string, string> {
  const { accessKeyId, secretAccessKey, sessionToken } = credentialsFor(id);
  return {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    ...(sessionToken ? { AWS_SESSION_TOKEN: sessionToken } : {}),
  };
}

/**
 * The access key of a SigV4-signed request: the Credential= part of the Authorization header, or the
 * X-Amz-Credential query parameter of a presigned URL. Undefined when the request is unsigned.
 */
export function accessKeyOfRequest(
  headers: Record<string, string | string[] | undefined>,
  url: string | undefined,
): string | undefined {
  const authorization = headers.authorization;
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  const fromHeader = header ? /Credential=([^/,\s]+)\//.exec(header)?.[1] : undefined;
  if (fromHeader) return fromHeader;
  if (!url) return undefined;
  const query = url.indexOf('?');
  if (query < 0) return undefined;
  const credential = new URLSearchParams(url.slice(query + 1)).get('X-Amz-Credential');
  return credential?.split('/')[0] || undefined;
}
