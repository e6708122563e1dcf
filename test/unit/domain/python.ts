// Finds a Python with numpy (and one with scikit-learn) so reference checks can run where they exist.
import { spawnSync } from 'node:child_process';

const CANDIDATES = ['python3', '/usr/bin/python3', 'python'];

function findPythonWith(module: string): string | null {
  for (const candidate of CANDIDATES) {
    const probe = spawnSync(candidate, ['-c', `import ${module}`], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return null;
}

export const numpyPython = findPythonWith('numpy');
export const sklearnPython = findPythonWith('sklearn');

/** Runs a script that reads JSON from stdin as `data` and prints one JSON value. */
export function runPython(python: string, script: string, data: unknown = null): unknown {
  const program = `import json, sys\ndata = json.loads(sys.stdin.read())\n${script}`;
  const result = spawnSync(python, ['-c', program], {
    input: JSON.stringify(data),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`${python} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** `describe` when the interpreter exists, otherwise a skipped block whose title says why. */
export function describeWithPython(
  python: string | null,
  requirement: string,
  title: string,
  body: (python: string) => void,
): void {
  if (python === null) {
    describe.skip(`${title} (skipped: no python3 with ${requirement} found)`, () => {
      test('needs python', () => undefined);
    });
    return;
  }
  describe(title, () => body(python));
}
