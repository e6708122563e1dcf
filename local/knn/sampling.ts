/**
 * Training-time sampling (reference A.2 step 1): `sample_size` rows of the train channel, uniformly, in linear time.
 */

import { MersenneTwister } from '../../src/domain/random';

/**
 * A seeded uniform sample of `sampleSize` distinct row indices out of `rowCount`, in increasing order.
 *
 * Knuth's selection sampling (Algorithm S): one pass over the rows, row t kept with probability
 * (still needed) / (rows left), which makes every subset of the requested size equally likely. One random draw per
 * row visited, no extra memory beyond the result. With sampleSize ≥ rowCount every row is returned.
 */
export function sampleRows(rowCount: number, sampleSize: number, seed: number): Int32Array {
  if (!Number.isInteger(rowCount) || rowCount < 0)
    throw new RangeError(`rowCount must be a non-negative integer, got ${rowCount}`);
  if (!Number.isInteger(sampleSize) || sampleSize < 0) {
    throw new RangeError(`sampleSize must be a non-negative integer, got ${sampleSize}`);
  }
  if (sampleSize >= rowCount) return Int32Array.from({ length: rowCount }, (_, row) => row);

  const generator = new MersenneTwister(seed);
  const selected = new Int32Array(sampleSize);
  let chosen = 0;
  for (let row = 0; row < rowCount && chosen < sampleSize; row++) {
    if ((rowCount - row) * uniformDouble(generator) < sampleSize - chosen) selected[chosen++] = row;
  }
  return selected;
}

/** A uniform double in [0, 1) with 53 random bits, as numpy's random_sample builds it from two 32-bit draws. */
function uniformDouble(generator: MersenneTwister): number {
  const high = generator.nextUint32() >>> 5;
  const low = generator.nextUint32() >>> 6;
  return (high * 67108864 + low) / 9007199254740992;
}
