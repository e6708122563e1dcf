import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build, version as esbuildVersion, type BuildOptions, type Plugin } from 'esbuild';
import { PROJECT_DIR } from '../serverlessConfig';
import { lambdaSection } from './config';

/** Where bundles are kept between runs, keyed by a hash of their inputs. */
export const DEFAULT_BUNDLE_DIRECTORY = path.join(PROJECT_DIR, '.local-cloud', 'bundles');

/** What `custom.esbuild` of serverless.yml sets that changes the code (packaging-only fields left out). */
interface EsbuildSettings {
  bundle?: boolean;
  minify?: boolean;
  sourcemap?: boolean;
  sourcesContent?: boolean;
  target?: string;
  platform?: 'node';
  format?: 'cjs' | 'esm';
  mainFields?: string[];
  plugins?: string;
}

/** The options serverless-esbuild builds the deployed zips with, read from serverless.yml `custom.esbuild`. */
function deployedOptions(projectDir: string): { options: BuildOptions; pluginsFile?: string } {
  const settings = lambdaSection(projectDir).esbuild as EsbuildSettings;
  const options: BuildOptions = {
    bundle: settings.bundle ?? true,
    minify: settings.minify ?? false,
    sourcemap: settings.sourcemap ?? false,
    sourcesContent: settings.sourcesContent ?? true,
    target: settings.target ?? 'node20',
    platform: settings.platform ?? 'node',
    format: settings.format ?? 'cjs',
    mainFields: settings.mainFields,
  };
  const pluginsFile = settings.plugins ? path.resolve(projectDir, settings.plugins) : undefined;
  return { options, pluginsFile };
}

interface Manifest {
  /** The bundle's directory name under the cache directory. */
  directory: string;
  /** Every input file esbuild read, with its fingerprint when it was read. */
  inputs: Record<string, string>;
}

/**
 * Bundles handler entry points with esbuild as serverless-esbuild does for deployment (the options and plugins of
 * serverless.yml `custom.esbuild`), once: a bundle is kept under the cache directory with a manifest of every file
 * esbuild read, and reused while each of them is unchanged (project files compared by content, node_modules files by
 * size and modification time). Concurrent processes may build the same bundle; each writes to a fresh directory and
 * renames it into place, so readers only ever see complete bundles.
 */
export class BundleCache {
  private readonly building = new Map<string, Promise<string>>();
  private readonly fingerprints = new Map<string, string>();
  private settings?: { options: BuildOptions; plugins: Plugin[]; key: string };

  constructor(
    readonly directory: string = DEFAULT_BUNDLE_DIRECTORY,
    private readonly projectDir: string = PROJECT_DIR,
  ) {}

  /** The bundled file for `entry` (an absolute source path), built or taken from the cache. */
  bundle(name: string, entry: string): Promise<string> {
    const id = `${name}\0${entry}`;
    let pending = this.building.get(id);
    if (!pending) {
      pending = Promise.resolve().then(() => this.cachedOrBuilt(name, entry));
      // A failed build is retried on the next call rather than remembered.
      pending.catch(() => this.building.delete(id));
      this.building.set(id, pending);
    }
    return pending;
  }

  private buildSettings(): { options: BuildOptions; plugins: Plugin[]; key: string } {
    if (!this.settings) {
      const { options, pluginsFile } = deployedOptions(this.projectDir);
      const plugins = pluginsFile ? (createRequire(__filename)(pluginsFile) as Plugin[]) : [];
      const key = createHash('sha256')
        .update(JSON.stringify({ esbuildVersion, options }))
        .update(pluginsFile ? readFileSync(pluginsFile) : '')
        .digest('hex')
        .slice(0, 16);
      this.settings = { options, plugins, key };
    }
    return this.settings;
  }

  private fingerprint(file: string): string {
    let known = this.fingerprints.get(file);
    if (known === undefined) {
      try {
        if (file.includes(`${path.sep}node_modules${path.sep}`)) {
          const stat = statSync(file);
          known = `${stat.size}:${stat.mtimeMs}`;
        } else {
          known = createHash('sha1').update(readFileSync(file)).digest('hex');
        }
      } catch {
        known = 'missing';
      }
      this.fingerprints.set(file, known);
    }
    return known;
  }

  private async cachedOrBuilt(name: string, entry: string): Promise<string> {
    const { key } = this.buildSettings();
    const entryKey = createHash('sha256').update(`${key}\0${entry}`).digest('hex').slice(0, 16);
    const manifestFile = path.join(this.directory, `${name}.${entryKey}.json`);
    const cached = this.readManifest(manifestFile);
    if (cached) return path.join(this.directory, cached.directory, 'index.js');
    this.fingerprints.clear(); // files may have changed since they were first looked at
    return this.build(name, entry, manifestFile);
  }

  private readManifest(file: string): Manifest | undefined {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
    if (!existsSync(path.join(this.directory, manifest.directory, 'index.js'))) return undefined;
    for (const [input, fingerprint] of Object.entries(manifest.inputs)) {
      if (this.fingerprint(input) !== fingerprint) return undefined;
    }
    return manifest;
  }

  private async build(name: string, entry: string, manifestFile: string): Promise<string> {
    const { options, plugins } = this.buildSettings();
    mkdirSync(this.directory, { recursive: true });
    const scratch = path.join(this.directory, `.building-${name}-${randomUUID()}`);
    try {
      const result = await build({
        ...options,
        plugins,
        entryPoints: { index: entry },
        outdir: scratch,
        absWorkingDir: this.projectDir,
        metafile: true,
        logLevel: 'silent',
      });
      const inputs: Record<string, string> = {};
      for (const input of Object.keys(result.metafile.inputs)) {
        // Inputs from plugin namespaces ("no-node-fetch:canvas") are not files.
        if (/^[\w-]+:/.test(input) && !path.isAbsolute(input)) continue;
        const file = path.resolve(this.projectDir, input);
        inputs[file] = this.fingerprint(file);
      }
      const digest = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
      const directory = `${name}.${digest}`;
      const target = path.join(this.directory, directory);
      try {
        renameSync(scratch, target);
      } catch (error) {
        // Another process has just built the same bundle: use it.
        if (!existsSync(path.join(target, 'index.js'))) throw error;
      }
      const manifestScratch = `${manifestFile}.${randomUUID()}`;
      writeFileSync(manifestScratch, JSON.stringify({ directory, inputs } satisfies Manifest));
      renameSync(manifestScratch, manifestFile);
      this.prune(name, directory);
      return path.join(target, 'index.js');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** Removes this function's superseded bundles once they are an hour old (a running worker may still load one). */
  private prune(name: string, keep: string): void {
    const hourAgo = Date.now() - 3_600_000;
    for (const entry of readdirSync(this.directory)) {
      if (!entry.startsWith(`${name}.`) || entry === keep || entry.endsWith('.json')) continue;
      try {
        if (statSync(path.join(this.directory, entry)).mtimeMs < hourAgo)
          rmSync(path.join(this.directory, entry), { recursive: true, force: true });
      } catch {
        // pruning is best effort
      }
    }
  }
}
