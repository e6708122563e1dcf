import { MersenneTwister, permutation, SeedError } from '../../../src/domain/random';
import { describeWithPython, numpyPython, runPython } from './python';

// Computed once with numpy: RandomState(42)._bit_generator.random_raw(625)[-1].
const KNOWN_SEED_42_OUTPUT_625 = 108880612;

describe('MersenneTwister', () => {
  test('produces numpy RandomState(0) raw outputs', () => {
    const generator = new MersenneTwister(0);
    const outputs = Array.from({ length: 5 }, () => generator.nextUint32());
    expect(outputs).toEqual([2357136044, 2546248239, 3071714933, 3626093760, 2588848963]);
  });

  test('keeps matching past the first 624-word state refill', () => {
    const generator = new MersenneTwister(42);
    for (let i = 0; i < 624; i++) generator.nextUint32();
    expect(generator.nextUint32()).toBe(KNOWN_SEED_42_OUTPUT_625);
  });

  test.each([-1, 1.5, 2 ** 32, Number.NaN])('rejects seed %p like numpy does', (seed) => {
    expect(() => new MersenneTwister(seed)).toThrow(SeedError);
  });
});

describe('permutation', () => {
  test('matches numpy RandomState(seed).permutation(10) for known seeds', () => {
    expect(Array.from(permutation(10, 0))).toEqual([2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
    expect(Array.from(permutation(10, 42))).toEqual([8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
  });

  test('handles empty and single-element inputs', () => {
    expect(Array.from(permutation(0, 1))).toEqual([]);
    expect(Array.from(permutation(1, 1))).toEqual([0]);
  });

  test('is a permutation of 0..n-1', () => {
    const shuffled = permutation(1000, 7);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});

describeWithPython(numpyPython, 'numpy', 'permutation against numpy', (python) => {
  const seeds = [0, 1, 42, 2 ** 31 - 1, 4294967295];
  const sizes = [0, 1, 2, 10, 150, 1000, 100000];
  const expected = runPython(
    python,
    'import numpy as np\nprint(json.dumps({f"{s}/{n}": np.random.RandomState(s).permutation(n).tolist() for s in data["seeds"] for n in data["sizes"]}))',
    { seeds, sizes },
  ) as Record<string, number[]>;

  for (const seed of seeds) {
    test.each(sizes)(`seed ${seed}, n = %p`, (n) => {
      expect(Array.from(permutation(n, seed))).toEqual(expected[`${seed}/${n}`]);
    });
  }

  test('raw 32-bit outputs match for 2000 draws', () => {
    const numpyOutputs = runPython(
      python,
      'import numpy as np\nprint(json.dumps(np.random.RandomState(123456789)._bit_generator.random_raw(2000).tolist()))',
    ) as number[];
    const generator = new MersenneTwister(123456789);
    expect(Array.from({ length: 2000 }, () => generator.nextUint32())).toEqual(numpyOutputs);
  });
});
