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

/**
 * serverless.yml as written, with its YAML file includes resolved and the `resources` list merged into one
 * CloudFormation fragment, as Serverless merges it. Other variables (`${param:…}`, `${self:…}`) stay unresolved.
 */
export function readServerlessConfig(projectDir = PROJECT_DIR): any {
  const config = resolveIncludes(
    parse(readFileSync(path.join(projectDir, 'serverless.yml'), 'utf8')),
    projectDir,
  ) as any;
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
  return config;
}
