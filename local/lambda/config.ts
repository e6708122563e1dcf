import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_DIR, readServerlessConfig, type ServerlessConfig } from '../serverlessConfig';

/** What Lambda enforces per function: `memorySize` (MB) and `timeout` (seconds). */
export interface FunctionLimits {
  memorySize: number;
  timeout: number;
}

/** One function of serverless.yml as the local Lambda runs it. */
export interface LambdaFunctionConfig extends FunctionLimits {
  /** The function's key in serverless.yml (`prepare`). */
  key: string;
  /** The handler as serverless.yml writes it (`functions/prepare.handler`). */
  handler: string;
  /** The handler's source file, absolute (the esbuild entry point). */
  entry: string;
  /** The handler's export name (`handler`). */
  exportName: string;
  /** The Lambda runtime identifier (`nodejs22.x`), for AWS_EXECUTION_ENV. */
  runtime: string;
  /** NODE_OPTIONS of the provider's environment, when it sets one (`--enable-source-maps`). */
  nodeOptions?: string;
}

/** The parts of serverless.yml the local Lambda reads (plain JSON, so they can be cached on disk). */
export interface LambdaSection {
  provider: { memorySize?: unknown; timeout?: unknown; runtime?: unknown; nodeOptions?: unknown };
  functions: Record<string, { handler?: unknown; memorySize?: unknown; timeout?: unknown }>;
  /** `custom.esbuild`: how serverless-esbuild bundles the functions. */
  esbuild: Record<string, unknown>;
}

const INCLUDE = /\$\{file\((\.\/[^)]+\.ya?ml)\)/g;

/** A hash of serverless.yml and every YAML file it includes (recursively), by content. */
function configFingerprint(projectDir: string): string {
  const hash = createHash('sha256');
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    hash.update(file).update('\0').update(text).update('\0');
    for (const [, include] of text.matchAll(INCLUDE)) visit(path.join(projectDir, include));
  };
  visit(path.join(projectDir, 'serverless.yml'));
  return hash.digest('hex').slice(0, 16);
}

function extractSection(config: ServerlessConfig): LambdaSection {
  const provider = config.provider;
  const functions: LambdaSection['functions'] = {};
  for (const [key, raw] of Object.entries(config.functions ?? {})) {
    const fn = (raw ?? {}) as Record<string, unknown>;
    functions[key] = { handler: fn.handler, memorySize: fn.memorySize, timeout: fn.timeout };
  }
  return {
    provider: {
      memorySize: provider.memorySize,
      timeout: provider.timeout,
      runtime: provider.runtime,
      nodeOptions: provider.environment?.NODE_OPTIONS,
    },
    functions,
    esbuild: (config.custom.esbuild ?? {}) as Record<string, unknown>,
  };
}

const sections = new Map<string, LambdaSection>();

/**
 * The function settings of serverless.yml (read with readServerlessConfig, includes resolved). Parsing the YAML takes
 * most of a second, so the result is kept per process and on disk under `cacheDir`, keyed by the content of
 * serverless.yml and its includes.
 */
export function lambdaSection(projectDir = PROJECT_DIR, cacheDir = path.join(projectDir, '.local-cloud', 'bundles')) {
  const fingerprint = configFingerprint(projectDir);
  const id = `${projectDir}\0${fingerprint}`;
  let section = sections.get(id);
  if (section) return section;
  const file = path.join(cacheDir, `serverless.${fingerprint}.json`);
  try {
    section = JSON.parse(readFileSync(file, 'utf8')) as LambdaSection;
  } catch {
    section = extractSection(readServerlessConfig(projectDir));
    mkdirSync(cacheDir, { recursive: true });
    const scratch = `${file}.${randomUUID()}`;
    writeFileSync(scratch, JSON.stringify(section));
    renameSync(scratch, file);
  }
  sections.set(id, section);
  return section;
}

/** The Serverless Framework's defaults when neither the function nor the provider sets a limit. */
export const SERVERLESS_DEFAULTS: FunctionLimits = { memorySize: 1024, timeout: 6 };

/** Lambda's own bounds: 128 MB to 10,240 MB, 1 to 900 seconds. */
function checkLimits(key: string, limits: FunctionLimits): FunctionLimits {
  const { memorySize, timeout } = limits;
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240)
    throw new Error(`function ${key}: memorySize ${memorySize} is outside Lambda's 128-10240 MB`);
  if (!(timeout > 0) || timeout > 900)
    throw new Error(`function ${key}: timeout ${timeout} is outside Lambda's 1-900 seconds`);
  return limits;
}

function numberField(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

/** `functions/prepare.handler` → the TypeScript (or JavaScript) file and the export. */
export function resolveHandler(handler: string, projectDir = PROJECT_DIR): { entry: string; exportName: string } {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new Error(`handler ${handler} is not <file>.<export>`);
  const base = path.resolve(projectDir, handler.slice(0, dot));
  const entry = ['.ts', '.js', '.mjs', '.cjs'].map((ext) => base + ext).find((file) => existsSync(file));
  if (!entry) throw new Error(`handler ${handler}: no ${base}.ts or .js`);
  return { entry, exportName: handler.slice(dot + 1) };
}

/**
 * Every function of serverless.yml with its handler and limits: the function's `memorySize`/`timeout`, else the
 * provider's, else the framework's defaults; `overrides` (tests) replace either limit of a function.
 */
export function serverlessFunctions(
  overrides: Record<string, Partial<FunctionLimits>> = {},
  projectDir = PROJECT_DIR,
): Record<string, LambdaFunctionConfig> {
  const { provider, functions: declared } = lambdaSection(projectDir);
  const runtime = typeof provider.runtime === 'string' ? provider.runtime : 'nodejs22.x';
  const nodeOptions = typeof provider.nodeOptions === 'string' ? provider.nodeOptions : undefined;
  const functions: Record<string, LambdaFunctionConfig> = {};
  for (const [key, fn] of Object.entries(declared)) {
    if (typeof fn.handler !== 'string') throw new Error(`function ${key} has no handler`);
    const limits = checkLimits(key, {
      memorySize:
        overrides[key]?.memorySize ??
        numberField(fn.memorySize) ??
        numberField(provider.memorySize) ??
        SERVERLESS_DEFAULTS.memorySize,
      timeout:
        overrides[key]?.timeout ??
        numberField(fn.timeout) ??
        numberField(provider.timeout) ??
        SERVERLESS_DEFAULTS.timeout,
    });
    functions[key] = {
      key,
      handler: fn.handler,
      ...resolveHandler(fn.handler, projectDir),
      ...limits,
      runtime,
      nodeOptions,
    };
  }
  for (const key of Object.keys(overrides)) {
    if (!functions[key]) throw new Error(`functionLimits: serverless.yml has no function ${key}`);
  }
  return functions;
}

/**
 * The V8 heap limits of a function's Node.js runtime. Lambda's Node.js bootstrap starts node with
 * `--max-semi-space-size=<memory/20> --max-old-space-size=<memory - memory/10>` (new space = memory/10, half of it
 * per semi-space; the old generation gets the remaining ~90 %), so a worker thread gets the same old-generation limit
 * and a young generation of memory/10. Off-heap memory (Buffers, ArrayBuffers, native code) is not counted by these
 * limits, whereas Lambda counts the whole sandbox against memorySize: see the invoker's out-of-memory note.
 */
export function heapLimits(memorySize: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  const newSpace = Math.floor(memorySize / 10);
  return { maxOldGenerationSizeMb: memorySize - newSpace, maxYoungGenerationSizeMb: newSpace };
}
