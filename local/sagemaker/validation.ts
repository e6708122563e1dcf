// Request validation that reproduces the SageMaker API's synchronous ValidationException texts.
import { SageMakerApiError, validationErrorsMessage } from './errors';

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
