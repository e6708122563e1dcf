'use strict';

/**
 * esbuild plugins for serverless-esbuild (`custom.esbuild.plugins`).
 *
 * vendorSourceMapsOff: dependencies (the AWS SDK, zod, …) are loaded with a stub inline source map, so the
 * bundle's source map maps our own code (functions/, src/) in detail: stack traces point at our TypeScript lines,
 * while a frame inside a dependency names the dependency's file (at line 1). The maps of the AWS SDK and zod would
 * otherwise be most of each zip: with this plugin every zip stays far below 500 KB with `sourcemap: true` and
 * NODE_OPTIONS=--enable-source-maps.
 */
const fs = require('node:fs/promises');
const path = require('node:path');

/**
 * An input source map that maps only the first character of the file to itself. esbuild ignores a map with no
 * mappings at all, but with this one it emits (almost) no segments for the dependency: the bundle's map shrinks
 * from ~1-2 MB to ~100-160 KB. A frame inside a dependency then names the right file, at line 1.
 */
function inlineStubMap(file) {
  const map = { version: 3, sources: [path.basename(file)], names: [], mappings: 'AAAA' };
  return `data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`;
}

const vendorSourceMapsOff = {
  name: 'vendor-source-maps-off',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.(?:c|m)?js$/ }, async (args) => {
      const code = await fs.readFile(args.path, 'utf8');
      const stripped = code.replace(/\/\/[#@] sourceMappingURL=\S*\s*$/, '');
      return {
        contents: `${stripped}\n//# sourceMappingURL=${inlineStubMap(args.path)}\n`,
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
  },
};

/**
 * noNodeFetch: Vega pulls in node-fetch (and whatwg-url, tr46: ~300 KB) for loading remote data, which the report
 * never does — its charts are built from inline values with a loader that refuses every load. A stub that throws
 * keeps the report function's zip under 500 KB.
 */
const noNodeFetch = {
  name: 'no-node-fetch',
  setup(build) {
    build.onResolve({ filter: /^node-fetch$/ }, () => ({ path: 'node-fetch', namespace: 'no-node-fetch' }));
    build.onLoad({ filter: /.*/, namespace: 'no-node-fetch' }, (args) => ({
      contents:
        args.path === 'canvas'
          ? 'throw new Error("canvas is not bundled: the report renders SVG only");'
          : 'module.exports = function fetch() { throw new Error("network loading is disabled in this bundle"); };',
      loader: 'js',
    }));
    // vega-canvas tries the optional native `canvas` package and falls back to SVG-only rendering without it.
    build.onResolve({ filter: /^canvas$/ }, () => ({ path: 'canvas', namespace: 'no-node-fetch' }));
  },
};

module.exports = [vendorSourceMapsOff, noNodeFetch];
