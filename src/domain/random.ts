// numpy's legacy MT19937 (numpy.random.RandomState), bit-for-bit, so splits match scikit-learn.
import { PipelineError } from '../errors';

const STATE_LENGTH = 624;
const SHIFT_OFFSET = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const MAX_UINT32 = 0xffffffff;

export class SeedError extends PipelineError {
  override name = 'SeedError';
}

export class MersenneTwister {
  private readonly key = new Uint32Array(STATE_LENGTH);
  private position = STATE_LENGTH;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_UINT32) {
      // numpy raises for these too: "Seed must be between 0 and 2**32 - 1".
      throw new SeedError(`seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
    }
    const key = this.key;
    key[0] = seed >>> 0;
    for (let i = 1; i < STATE_LENGTH; i++) {
      const previous = key[i - 1];
      key[i] = (Math.imul(1812433253, previous ^ (previous >>> 30)) + i) >>> 0;
    }
  }

  nextUint32(): number {
    if (this.position === STATE_LENGTH) this.regenerate();
    let y = this.key[this.position++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform integer in [0, max], numpy's `random_interval` (masked rejection sampling). */
  nextIntInclusive(max: number): number {
    if (max === 0) return 0;
    if (!Number.isInteger(max) || max < 0 || max > MAX_UINT32) {
      throw new RangeError(`max must be an integer between 0 and 2**32 - 1, got ${max}`);
    }
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do {
      value = (this.nextUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  private regenerate(): void {
    const key = this.key;
    let i = 0;
    for (; i < STATE_LENGTH - SHIFT_OFFSET; i++) {
      const y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = key[i + SHIFT_OFFSET] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; i < STATE_LENGTH - 1; i++) {
      const y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = key[i + SHIFT_OFFSET - STATE_LENGTH] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (key[STATE_LENGTH - 1] & UPPER_MASK) | (key[0] & LOWER_MASK);
    key[STATE_LENGTH - 1] = key[SHIFT_OFFSET - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.position = 0;
  }
}

/** Exactly `numpy.random.RandomState(seed).permutation(n)`, as 32-bit row numbers (4 bytes a row, not a JS array). */
export function permutation(n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new RangeError(`n must be an integer between 0 and 2**31 - 1, got ${n}`);
  }
  const generator = new MersenneTwister(seed);
  const values = new Int32Array(n);
  for (let i = 0; i < n; i++) values[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = generator.nextIntInclusive(i);
    const swapped = values[i];
    values[i] = values[j];
    values[j] = swapped;
  }
  return values;
}
