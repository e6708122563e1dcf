/** The bundle cache: an unchanged tree reuses its bundles, a changed input rebuilds only what it reaches. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { BundleCache } from '../../../local/lambda/bundles';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lambda-bundles-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a bundle is reused while its inputs are unchanged and rebuilt when one changes', async () => {
  const shared = path.join(dir, 'shared.ts');
  const entry = path.join(dir, 'entry.ts');
  writeFileSync(shared, "export const greeting: string = 'hello';\n");
  writeFileSync(entry, "import { greeting } from './shared';\nexport const handler = async () => greeting;\n");
  const cacheDir = path.join(dir, 'cache');

  const first = await new BundleCache(cacheDir).bundle('entry', entry);
  expect(readFileSync(first, 'utf8')).toContain('hello');
  const builtAt = statSync(first).mtimeMs;

  // A new process (a new cache object) finds the same bundle and does not write it again.
  const again = await new BundleCache(cacheDir).bundle('entry', entry);
  expect(again).toBe(first);
  expect(statSync(again).mtimeMs).toBe(builtAt);

  // An imported file changes: a new bundle with the new code.
  writeFileSync(shared, "export const greeting: string = 'bonjour';\n");
  const rebuilt = await new BundleCache(cacheDir).bundle('entry', entry);
  expect(rebuilt).not.toBe(first);
  expect(readFileSync(rebuilt, 'utf8')).toContain('bonjour');
}, 60_000);

test('the bundle is built like the deployed one: CommonJS for Node, minified, with a source map', async () => {
  const entry = path.join(dir, 'entry.ts');
  writeFileSync(entry, 'export const handler = async (event: { value: number }) => ({ doubled: event.value * 2 });\n');
  const file = await new BundleCache(path.join(dir, 'cache')).bundle('entry', entry);
  const code = readFileSync(file, 'utf8');
  expect(code).toMatch(/module\.exports/);
  expect(code).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
  expect(code.split('\n').length).toBeLessThan(6); // minified
  const loaded = createRequire(__filename)(file) as { handler: (event: { value: number }) => Promise<unknown> };
  await expect(loaded.handler({ value: 21 })).resolves.toEqual({ doubled: 42 });
}, 60_000);
