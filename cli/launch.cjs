#!/usr/bin/env node
// Starts a command line (`npm start`, the knn-pipeline bin) from an esbuild bundle of its TypeScript, so a start does
// not compile TypeScript. The bundle is built at install time (`npm ci` runs `prepare`: `node cli/launch.cjs --build`)
// and again, before running, whenever a project file it was built from has changed (its manifest records each file's
// size and mtime), so an edit never runs stale code. Packages stay external (loaded from node_modules as they are).
// Without esbuild, or if the build fails, the source runs through tsx as before.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, '.build', 'cli');
/** Each command line's entry module; it exports `main(argv)`. */
const ENTRIES = {
  start: { source: 'cli/start/main.ts', argv: () => process.argv },
  'knn-pipeline': { source: 'cli/knn-pipeline/main.ts', argv: () => process.argv.slice(2) },
  // Not a command line: the local Lambda's bundles, built by --build so that a first run finds them ready.
  'prebuild-lambdas': { source: 'local/lambda/prebuild.ts', argv: () => [] },
};

const bundleFile = (name) => path.join(OUT_DIR, `${name}.cjs`);
const manifestFile = (name) => path.join(OUT_DIR, `${name}.manifest.json`);

/** True when the bundle exists and every project file it was built from is as it was then. */
function upToDate(name) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile(name), 'utf8'));
  } catch {
    return false;
  }
  if (manifest.node !== process.version || !fs.existsSync(bundleFile(name))) return false;
  return manifest.inputs.every(([file, size, mtimeMs]) => {
    try {
      const stat = fs.statSync(path.join(ROOT, file));
      return stat.size === size && stat.mtimeMs === mtimeMs;
    } catch {
      return false;
    }
  });
}

/**
 * In a bundle every module's `__dirname` would be the bundle's folder: project files get their own folder back,
 * relative to the bundle, so paths like `path.resolve(__dirname, '../..')` keep meaning the project root.
 */
const ownDirname = {
  name: 'own-dirname',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = fs.readFileSync(args.path, 'utf8');
      if (!source.includes('__dirname')) return { contents: source, loader: 'ts' };
      const relative = path.relative(OUT_DIR, path.dirname(args.path)).split(path.sep).join('/');
      return {
        contents: source.replace(/\b__dirname\b/g, `require('node:path').join(__dirname, ${JSON.stringify(relative)})`),
        loader: 'ts',
      };
    });
  },
};

/** Builds the bundles of `names` (all by default), each with its manifest. */
async function build(names = Object.keys(ENTRIES)) {
  const esbuild = require('esbuild');
  for (const name of names) {
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: [ENTRIES[name].source],
      outfile: bundleFile(name),
      bundle: true,
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      format: 'cjs',
      packages: 'external',
      sourcemap: true,
      metafile: true,
      logLevel: 'error',
      plugins: [ownDirname],
      write: false,
    });
    // Each file written aside and renamed into place: a start running meanwhile never loads half a bundle.
    fs.mkdirSync(OUT_DIR, { recursive: true });
    for (const output of result.outputFiles) {
      const aside = `${output.path}.${process.pid}.tmp`;
      fs.writeFileSync(aside, output.contents);
      fs.renameSync(aside, output.path);
    }
    const inputs = Object.keys(result.metafile.inputs).map((file) => {
      const stat = fs.statSync(path.join(ROOT, file));
      return [file, stat.size, stat.mtimeMs];
    });
    const manifestAside = `${manifestFile(name)}.${process.pid}.tmp`;
    fs.writeFileSync(manifestAside, `${JSON.stringify({ node: process.version, inputs })}\n`);
    fs.renameSync(manifestAside, manifestFile(name));
  }
}

/**
 * `prepare` (npm ci, npm install): the bundles and the local Lambda's, never failing the install — where this cannot
 * build, a start builds or falls back to tsx and says why.
 */
async function installBuild() {
  try {
    await build();
    await run('prebuild-lambdas');
  } catch (error) {
    process.stderr.write(`cli/launch.cjs --build: not built (${error instanceof Error ? error.message : error})\n`);
  }
}

/** Runs command line `name` with this process's arguments. */
async function run(name) {
  const entry = ENTRIES[name];
  let module;
  try {
    if (!upToDate(name)) await build([name]);
    process.setSourceMapsEnabled(true);
    module = require(bundleFile(name));
  } catch (error) {
    process.stderr.write(`(running ${entry.source} through tsx: ${error.message})\n`);
    require('tsx/cjs/api').register();
    module = require(path.join(ROOT, entry.source));
  }
  return module.main(entry.argv());
}

module.exports = { run, build };

if (require.main === module) {
  const [command] = process.argv.splice(2, 1);
  const done =
    command === '--build'
      ? installBuild()
      : ENTRIES[command] && command !== 'prebuild-lambdas'
        ? run(command)
        : undefined;
  if (!done) {
    process.stderr.write('usage: node cli/launch.cjs --build | start [arguments] | knn-pipeline [arguments]\n');
    process.exitCode = 2;
  } else {
    done.catch((error) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 2;
    });
  }
}
