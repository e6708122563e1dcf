import { spawnSync } from 'node:child_process';

/** Debian's python3 with numpy/scikit-learn (apt python3-sklearn), used for independent cross-checks when present. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export function hasPythonModules(...modules: string[]): boolean {
  const result = spawnSync(SYSTEM_PYTHON, ['-c', modules.map((m) => `import ${m}`).join(';')], { encoding: 'utf8' });
  return result.status === 0;
}

export function runPython(script: string, input = ''): string {
  const result = spawnSync(SYSTEM_PYTHON, ['-c', script], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return result.stdout;
}
