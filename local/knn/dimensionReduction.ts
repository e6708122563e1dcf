/**
 * `dimension_reduction_type=sign`: a seeded random projection with a matrix of random signs (reference A.2 step 2).
 *
 * y = x · S / √target, S ∈ {−1, +1}^(input × target) drawn from MT19937(seed); the 1/√target scale keeps squared L2
 * distances and inner products unbiased. The seed is stored in the model artifact (as the real artifact's
 * `dimension_reduction.seed`), so inference rebuilds the same matrix. AWS's own matrix is not reproducible, so a local
 * model and an AWS model trained on the same data project differently: both are approximate by design.
 * `fjlt` (fast Johnson–Lindenstrauss transform) is not implemented locally; training rejects it.
 */

import { MersenneTwister } from '../../src/domain/random';

export interface SignProjection {
  type: 'sign';
  seed: number;
  inputDim: number;
  targetDim: number;
}

/** Projects `count` row-major rows of width `inputDim` to width `targetDim`. */
export function projectRows(rows: Float32Array, count: number, projection: SignProjection): Float32Array {
  const { inputDim, targetDim } = projection;
  if (rows.length !== count * inputDim) {
    throw new RangeError(`rows has ${rows.length} values, expected ${count} × ${inputDim}`);
  }
  const matrix = signMatrix(projection);
  const projected = new Float32Array(count * targetDim);
  const sums = new Float64Array(targetDim);
  for (let row = 0; row < count; row++) {
    sums.fill(0);
    for (let d = 0; d < inputDim; d++) {
      const value = rows[row * inputDim + d];
      const weights = d * targetDim;
      for (let t = 0; t < targetDim; t++) sums[t] += value * matrix[weights + t];
    }
    projected.set(sums, row * targetDim);
  }
  return projected;
}

/** Row-major input × target matrix of ±1/√target, one MT19937 draw per entry. */
function signMatrix({ seed, inputDim, targetDim }: SignProjection): Float64Array {
  const generator = new MersenneTwister(seed);
  const scale = 1 / Math.sqrt(targetDim);
  const matrix = new Float64Array(inputDim * targetDim);
  for (let i = 0; i < matrix.length; i++) matrix[i] = generator.nextUint32() & 1 ? scale : -scale;
  return matrix;
}
