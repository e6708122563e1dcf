/**
 * Each Lambda function's bundle as serverless.yml's custom.esbuild builds it (bundled, minified, tree-shaken, source
 * map without sources, scripts/esbuild-plugins.js, node20 CommonJS, ES-module builds of dependencies preferred),
 * and the zip Lambda would receive: handler .js + .js.map, deflated at level 9.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import plugins from '../scripts/esbuild-plugins.js';

export interface BundleSize {
  name: string;
  jsBytes: number;
  mapBytes: number;
  zipBytes: number;
}

const PROJECT_ROOT = path.resolve(__dirname, '..');

export async function benchBundles(): Promise<BundleSize[]> {
  const names = readdirSync(path.join(PROJECT_ROOT, 'functions'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -3))
    .sort();
  const outdir = mkdtempSync(path.join(tmpdir(), 'knn-bench-bundles-'));
  try {
    const sizes: BundleSize[] = [];
    for (const name of names) {
      await build({
        entryPoints: [path.join(PROJECT_ROOT, 'functions', `${name}.ts`)],
        outfile: path.join(outdir, `functions/${name}.js`),
        bundle: true,
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        plugins,
        target: 'node20',
        platform: 'node',
        format: 'cjs',
        mainFields: ['module', 'main'],
        logLevel: 'error',
      });
      const js = readFileSync(path.join(outdir, `functions/${name}.js`));
      const map = readFileSync(path.join(outdir, `functions/${name}.js.map`));
      const zip = zipFiles([
        { name: `functions/${name}.js`, data: js },
        { name: `functions/${name}.js.map`, data: map },
      ]);
      sizes.push({ name, jsBytes: js.length, mapBytes: map.length, zipBytes: zip.length });
    }
    return sizes;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A minimal zip archive (deflate, level 9): local headers, data, central directory, end record. */
export function zipFiles(files: { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const compressed = deflateRawSync(file.data, { level: 9 });
    const checksum = crc32(file.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt32LE(checksum, 16);
    entry.writeUInt32LE(compressed.length, 20);
    entry.writeUInt32LE(file.data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    parts.push(local, name, compressed);
    central.push(entry, name);
    offset += local.length + name.length + compressed.length;
  }
  const centralBytes = central.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralBytes, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}
