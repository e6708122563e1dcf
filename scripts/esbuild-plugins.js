'use strict';

/**
 * esbuild plugins for serverless-esbuild (`custom.esbuild.plugins`).
 *
 * vendorSourceMapsOff: dependencies (the AWS SDK, zod, …) are loaded with a stub inline source map, so the
 * bundle's source map only maps our own code (functions/, src/) in detail. Stack traces still point at our TypeScript lines;
 * frames inside a dependency show the bundled position. This keeps each Lambda zip far below 500 KB while
 * `sourcemap: true` + NODE_OPTIONS=--enable-source-maps still work where they matter.
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

module.exports = [vendorSourceMapsOff];
