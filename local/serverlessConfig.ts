import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const PROJECT_DIR = path.resolve(__dirname, '..');

/** `${file(./path.yml)}` or `${file(./path.yml):key}` as a whole value; other variables are left as written. */
const FILE_INCLUDE = /^\$\{file\((\.\/[^)]+\.ya?ml)\)(?::([\w.]+))?\}$/;

function resolveIncludes(value: unknown, projectDir: string): unknown {
  if (typeof value === 'string') {
    const include = FILE_INCLUDE.exec(value);
    if (!include) return value;
    const [, file, key] = include;
    let included: unknown = parse(readFileSync(path.join(projectDir, file), 'utf8'));
    for (const part of key?.split('.') ?? []) included = (included as Record<string, unknown>)[part];
    if (included === undefined) throw new Error(`serverless config: ${value} resolves to nothing`);
    return resolveIncludes(included, projectDir);
  }
  if (Array.isArray(value)) return value.map((item) => resolveIncludes(item, projectDir));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveIncludes(v, projectDir)]));
  }
  return value;
}

/** An EventBridge event pattern as a rule in serverless.yml writes it. */
export interface EventPattern {
  source?: string[];
  'detail-type'?: string[];
  detail?: Record<string, unknown>;
}

/** The parts of serverless.yml that the packaging checks read; everything else stays as parsed YAML (`unknown`). */
export interface ServerlessConfig {
  service: string;
  params: Record<string, Record<string, string>>;
  provider: { environment: Record<string, unknown>; [field: string]: unknown };
  custom: { knnImages: Record<string, string>; [field: string]: unknown };
  functions: Record<string, unknown>;
  stepFunctions: { stateMachines: Record<string, { events: { eventBridge?: { event?: EventPattern } }[] }> };
  /** The CloudFormation fragment: Resources, Parameters, Conditions, Outputs. */
  resources: {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown>; [attribute: string]: unknown }>;
    Parameters: Record<string, Record<string, unknown>>;
    [section: string]: unknown;
  };
  [field: string]: unknown;
}

/**
 * serverless.yml as written, with its YAML file includes resolved and the `resources` list merged into one
 * CloudFormation fragment, as Serverless merges it. Other variables (`${param:…}`, `${self:…}`) stay unresolved.
 */
export function readServerlessConfig(projectDir = PROJECT_DIR): ServerlessConfig {
  const config = resolveIncludes(parse(readFileSync(path.join(projectDir, 'serverless.yml'), 'utf8')), projectDir) as {
    resources?: unknown;
  };
  if (Array.isArray(config.resources)) {
    const merged: Record<string, Record<string, unknown>> = {};
    for (const fragment of config.resources) {
      for (const [section, entries] of Object.entries(fragment as Record<string, Record<string, unknown>>)) {
        for (const name of Object.keys(entries)) {
          if (merged[section]?.[name] !== undefined)
            throw new Error(`serverless config: ${section}.${name} defined twice`);
        }
        merged[section] = { ...merged[section], ...entries };
      }
    }
    config.resources = merged;
  }
  return config as ServerlessConfig; // the shape the checks rely on; they fail on a serverless.yml without it
}
