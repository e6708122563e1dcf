// Request validation that reproduces the SageMaker API's synchronous ValidationException texts.
import { SageMakerApiError, validationErrorsMessage, validationException } from './errors';

/** Patterns exactly as the API prints them in "Member must satisfy regular expression pattern: …". */
export const PATTERNS = {
  jobOrEndpointName: '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}',
  modelName: '^[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?',
  channelName: '[A-Za-z0-9\\.\\-_]+',
  roleArn: '^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$',
  s3Uri: '^(https|s3)://([^/]+)/?(.*)$',
  tag: '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$',
  instanceType: '^ml\\.[a-z0-9-]+\\.[a-z0-9-]+$',
  environmentKey: '^[a-zA-Z_][a-zA-Z0-9_]*$',
} as const;

const EXAMPLE_INSTANCE_TYPES = [
  'ml.t3.medium',
  'ml.m5.large',
  'ml.m5.xlarge',
  'ml.m5.2xlarge',
  'ml.c5.xlarge',
  'ml.p3.2xlarge',
  'ml.g5.xlarge',
];

const compiled = new Map<string, RegExp>();
function regexFor(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (!regex) {
    // AWS patterns are matched against the whole value even when they lack ^/$
    regex = new RegExp(`^(?:${pattern.replace(/^\^/, '').replace(/\$$/, '')})$`, 'u');
    compiled.set(pattern, regex);
  }
  return regex;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') {
    if (Array.isArray(value))
      return `'[${value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')}]'`;
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
    );
    return `'{${entries.join(', ')}}'`;
  }
  return `'${String(value)}'`;
}

/** Collects constraint violations so one response lists them all, as the real API does. */
export class Violations {
  private readonly messages: string[] = [];

  add(value: unknown, path: string, constraint: string): void {
    this.messages.push(`Value ${describeValue(value)} at '${path}' failed to satisfy constraint: ${constraint}`);
  }

  get isEmpty(): boolean {
    return this.messages.length === 0;
  }

  /** Returns true when present (so callers can go on checking the value). */
  required(value: unknown, path: string): boolean {
    if (value === undefined || value === null) {
      this.add(null, path, 'Member must not be null');
      return false;
    }
    return true;
  }

  string(
    value: unknown,
    path: string,
    rules: { min?: number; max?: number; pattern?: string; required?: boolean },
  ): value is string {
    if (value === undefined || value === null) {
      if (rules.required) this.required(value, path);
      return false;
    }
    if (typeof value !== 'string') throw serializationException(path, 'string');
    if (rules.max !== undefined && value.length > rules.max)
      this.add(value, path, `Member must have length less than or equal to ${rules.max}`);
    if (rules.min !== undefined && value.length < rules.min)
      this.add(value, path, `Member must have length greater than or equal to ${rules.min}`);
    if (rules.pattern !== undefined && !regexFor(rules.pattern).test(value)) {
      this.add(value, path, `Member must satisfy regular expression pattern: ${rules.pattern}`);
    }
    return true;
  }

  integer(value: unknown, path: string, rules: { min?: number; max?: number; required?: boolean }): value is number {
    if (value === undefined || value === null) {
      if (rules.required) this.required(value, path);
      return false;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationException(path, 'integer');
    if (rules.min !== undefined && value < rules.min)
      this.add(value, path, `Member must have value greater than or equal to ${rules.min}`);
    if (rules.max !== undefined && value > rules.max)
      this.add(value, path, `Member must have value less than or equal to ${rules.max}`);
    return true;
  }

  number(value: unknown, path: string, rules: { min?: number; required?: boolean }): value is number {
    if (value === undefined || value === null) {
      if (rules.required) this.required(value, path);
      return false;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw serializationException(path, 'number');
    if (rules.min !== undefined && value < rules.min)
      this.add(value, path, `Member must have value greater than or equal to ${rules.min}`);
    return true;
  }

  oneOf(value: unknown, path: string, allowed: readonly string[], required = false): value is string {
    if (!this.string(value, path, { required })) return false;
    if (!allowed.includes(value)) this.add(value, path, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
    return true;
  }

  /** Any `ml.<family>.<size>`; reported like the API's enum constraint (the real list has hundreds of entries). */
  instanceType(value: unknown, path: string, required: boolean): void {
    if (!this.string(value, path, { required })) return;
    if (!regexFor(PATTERNS.instanceType).test(value)) {
      this.add(value, path, `Member must satisfy enum value set: [${EXAMPLE_INSTANCE_TYPES.join(', ')}, …]`);
    }
  }

  boolean(value: unknown, path: string): void {
    if (value !== undefined && value !== null && typeof value !== 'boolean')
      throw serializationException(path, 'boolean');
  }

  list(value: unknown, path: string, rules: { min?: number; max?: number; required?: boolean }): value is unknown[] {
    if (value === undefined || value === null) {
      if (rules.required) this.required(value, path);
      return false;
    }
    if (!Array.isArray(value)) throw serializationException(path, 'list');
    if (rules.max !== undefined && value.length > rules.max)
      this.add(value, path, `Member must have length less than or equal to ${rules.max}`);
    if (rules.min !== undefined && value.length < rules.min)
      this.add(value, path, `Member must have length greater than or equal to ${rules.min}`);
    return true;
  }

  struct(value: unknown, path: string, required = false): value is Record<string, unknown> {
    if (value === undefined || value === null) {
      if (required) this.required(value, path);
      return false;
    }
    if (typeof value !== 'object' || Array.isArray(value)) throw serializationException(path, 'structure');
    return true;
  }

  /** A string→string map; non-string values are a validation error (HyperParameters are strings on the wire). */
  stringMap(
    value: unknown,
    path: string,
    rules: { maxEntries: number; keyMax: number; valueMax: number; keyPattern?: string },
  ): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'object' || Array.isArray(value)) throw serializationException(path, 'map');
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > rules.maxEntries)
      this.add(value, path, `Member must have length less than or equal to ${rules.maxEntries}`);
    const problems = new Set<string>();
    for (const [key, entryValue] of entries) {
      if (key.length > rules.keyMax)
        problems.add(
          `Map keys must satisfy constraint: [Member must have length less than or equal to ${rules.keyMax}]`,
        );
      if (rules.keyPattern && !regexFor(rules.keyPattern).test(key)) {
        problems.add(
          `Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ${rules.keyPattern}]`,
        );
      }
      if (typeof entryValue !== 'string')
        problems.add(
          `Map value must satisfy constraint: [Member must be a string, got ${entryValue === null ? 'null' : typeof entryValue} for key '${key}']`,
        );
      else if (entryValue.length > rules.valueMax)
        problems.add(
          `Map value must satisfy constraint: [Member must have length less than or equal to ${rules.valueMax}]`,
        );
    }
    for (const problem of problems) this.add(value, path, problem);
  }

  tags(value: unknown, path = 'tags'): void {
    if (!this.list(value, path, { max: 50 })) return;
    value.forEach((tag, index) => {
      const tagPath = `${path}.${index + 1}.member`;
      if (!this.struct(tag, tagPath, true)) return;
      this.string(tag.Key, `${tagPath}.key`, { required: true, min: 1, max: 128, pattern: PATTERNS.tag });
      this.string(tag.Value, `${tagPath}.value`, { max: 256, pattern: PATTERNS.tag });
    });
  }

  throwIfAny(): void {
    if (this.messages.length > 0)
      throw new SageMakerApiError('ValidationException', validationErrorsMessage(this.messages));
  }
}

function serializationException(path: string, expected: string): SageMakerApiError {
  return new SageMakerApiError('SerializationException', `Expected ${expected} at '${path}'`);
}

/** Validates a name member on its own (Describe*, Delete*, Stop*). */
export function validateName(value: unknown, path: string, pattern: string, max = 63): string {
  const violations = new Violations();
  violations.string(value, path, { required: true, max, pattern });
  violations.throwIfAny();
  return value as string;
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^(?:s3|https):\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: match[1], key: match[2] };
}

/**
 * Registry accounts of the built-in k-NN image (`knn:1`) by region (sagemaker-python-sdk image_uri_config/knn.json).
 * The local SageMaker runs only this algorithm, so it is the only image it accepts.
 */
const KNN_IMAGE_ACCOUNTS: Record<string, string> = {
  'af-south-1': '455444449433',
  'ap-east-1': '286214385809',
  'ap-northeast-1': '351501993468',
  'ap-northeast-2': '835164637446',
  'ap-northeast-3': '867004704886',
  'ap-south-1': '991648021394',
  'ap-south-2': '628508329040',
  'ap-southeast-1': '475088953585',
  'ap-southeast-2': '712309505854',
  'ap-southeast-3': '951798379941',
  'ap-southeast-4': '106583098589',
  'ca-central-1': '469771592824',
  'ca-west-1': '190319476487',
  'cn-north-1': '390948362332',
  'cn-northwest-1': '387376663083',
  'eu-central-1': '664544806723',
  'eu-central-2': '680994064768',
  'eu-north-1': '669576153137',
  'eu-south-1': '257386234256',
  'eu-south-2': '104374241257',
  'eu-west-1': '438346466558',
  'eu-west-2': '644912444149',
  'eu-west-3': '749696950732',
  'il-central-1': '898809789911',
  'me-central-1': '272398656194',
  'me-south-1': '249704162688',
  'sa-east-1': '855470959533',
  'us-east-1': '382416733822',
  'us-east-2': '404615174143',
  'us-gov-east-1': '237065988967',
  'us-gov-west-1': '226302683700',
  'us-iso-east-1': '490574956308',
  'us-isob-east-1': '765400339828',
  'us-isof-east-1': '108575199400',
  'us-isof-south-1': '124985052026',
  'us-west-1': '632365934929',
  'us-west-2': '174872318107',
};

function ecrHostname(region: string): string {
  if (region.startsWith('cn-')) return `ecr.${region}.amazonaws.com.cn`;
  if (region.startsWith('us-isob-')) return `ecr.${region}.sc2s.sgov.gov`;
  if (region.startsWith('us-isof-')) return `ecr.${region}.csp.hci.ic.gov`;
  if (region.startsWith('us-iso-')) return `ecr.${region}.c2s.ic.gov`;
  return `ecr.${region}.amazonaws.com`;
}

/** The region's built-in k-NN image URI, or undefined where SageMaker has no k-NN image. */
export function knnImageUri(region: string): string | undefined {
  const account = KNN_IMAGE_ACCOUNTS[region];
  return account && `${account}.dkr.${ecrHostname(region)}/knn:1`;
}

const ECR_IMAGE =
  /^(\d{12})\.dkr\.(ecr\.[a-z0-9-]+\.[a-z0-9.-]+)\/([a-z0-9][a-z0-9._/-]*?)(?::([\w.-]+))?(?:@(sha256:[0-9a-f]{64}))?$/;
const ECR_PULL_PERMISSIONS = 'ecr:BatchCheckLayerAvailability, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer';

/**
 * Refuses, as SageMaker does synchronously, an image it cannot pull — here any image but the region's `knn:1`:
 * CreateTrainingJob answers "Invalid training image…" / "Cannot find repository…" / "Cannot find the requested
 * image…", CreateModel "Using non-ECR image…" / "Requested image … not found." (all ValidationException).
 */
export function refuseUnknownImage(
  image: string,
  use: { operation: 'training' | 'model'; region: string; roleArn?: string },
): void {
  const expected = knnImageUri(use.region);
  if (image === expected) return;
  const match = ECR_IMAGE.exec(image);
  const role = use.roleArn ?? 'null';
  if (use.operation === 'model') {
    if (!match)
      throw validationException(`Using non-ECR image "${image}" without Vpc repository access mode is not supported.`);
    throw validationException(`Requested image ${image} not found.`);
  }
  if (!match) {
    throw validationException(
      'Invalid training image. Please provide a valid Amazon Elastic Container Registry path of the Docker image to run.',
    );
  }
  const [, registry, host, repository, tag, digest] = match;
  const knnRegistry = expected !== undefined && registry === KNN_IMAGE_ACCOUNTS[use.region];
  if (!knnRegistry || host !== ecrHostname(use.region) || repository !== 'knn') {
    throw validationException(
      `Cannot find repository: ${repository} in registry ID: ${registry} Please check if your ECR repository exists and role ${role} has proper pull permissions for SageMaker: ${ECR_PULL_PERMISSIONS}`,
    );
  }
  throw validationException(
    `Cannot find the requested image: ${image} with tag: ${digest ? 'null' : (tag ?? 'latest')} and digest: ${digest ?? 'null'}. Please check if your ECR image exists and role ${role} has proper pull permissions for SageMaker: ${ECR_PULL_PERMISSIONS}`,
  );
}

/**
 * CreateTrainingJob's algorithm: the region's k-NN image; an AlgorithmName names an algorithm resource (created or
 * subscribed to on AWS Marketplace), and the local SageMaker has none.
 */
export function refuseUnknownAlgorithm(
  spec: { TrainingImage?: unknown; AlgorithmName?: unknown },
  use: { region: string; accountId: string; roleArn?: string },
): void {
  if (typeof spec.TrainingImage === 'string') {
    refuseUnknownImage(spec.TrainingImage, { operation: 'training', ...use });
  } else if (typeof spec.AlgorithmName === 'string') {
    const name = spec.AlgorithmName;
    const arn = name.startsWith('arn:') ? name : `arn:aws:sagemaker:${use.region}:${use.accountId}:algorithm/${name}`;
    throw validationException(`Could not find algorithm "${arn}".`);
  }
}
