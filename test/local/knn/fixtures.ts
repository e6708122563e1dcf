// Shared test data: the Iris split the real-container log was produced with, and seeded random vectors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MersenneTwister } from '../../../src/domain/random';

/** numpy.random.RandomState(0).permutation(150): the first 38 rows are the test set, the next 112 the train set. */
export const IRIS_PERMUTATION = [
  114, 62, 33, 107, 7, 100, 40, 86, 76, 71, 134, 51, 73, 54, 63, 37, 78, 90, 45, 16, 121, 66, 24, 8, 126, 22, 44, 97,
  93, 26, 137, 84, 27, 127, 132, 59, 18, 83, 61, 92, 112, 2, 141, 43, 10, 60, 116, 144, 119, 108, 69, 135, 56, 80, 123,
  133, 106, 146, 50, 147, 85, 30, 101, 94, 64, 89, 91, 125, 48, 13, 111, 95, 20, 15, 52, 3, 149, 98, 6, 68, 109, 96, 12,
  102, 120, 104, 128, 46, 11, 110, 124, 41, 148, 1, 113, 139, 42, 4, 129, 17, 38, 5, 53, 143, 105, 0, 34, 28, 55, 75,
  35, 23, 74, 31, 118, 57, 131, 65, 32, 138, 14, 122, 19, 29, 130, 49, 136, 99, 82, 79, 115, 145, 72, 77, 25, 81, 140,
  142, 39, 58, 88, 70, 87, 36, 21, 9, 103, 67, 117, 47,
];

const SPECIES_CODE: Record<string, number> = { setosa: 0, versicolor: 1, virginica: 2 };

/** Iris as label-first headerless CSV channels (setosa=0, versicolor=1, virginica=2). */
export function irisChannels(): { train: string; test: string } {
  const lines = readFileSync(join(__dirname, '../../../data/iris.csv'), 'utf8').trim().split('\n').slice(1);
  const rows = lines.map((line) => {
    const cells = line.trim().split(',');
    return [SPECIES_CODE[cells[4]], ...cells.slice(0, 4)].join(',');
  });
  const channel = (indices: number[]): string => `${indices.map((i) => rows[i]).join('\n')}\n`;
  return { test: channel(IRIS_PERMUTATION.slice(0, 38)), train: channel(IRIS_PERMUTATION.slice(38)) };
}

/** `count × dim` float32 values uniform in [low, high), from a seeded MT19937. */
export function randomRows(count: number, dim: number, seed: number, low = -1, high = 1): Float32Array {
  const generator = new MersenneTwister(seed);
  const rows = new Float32Array(count * dim);
  for (let i = 0; i < rows.length; i++) rows[i] = low + ((high - low) * generator.nextUint32()) / 2 ** 32;
  return rows;
}

/** Random small integers (many exact ties in distance) as float32 rows. */
export function randomIntegerRows(count: number, dim: number, seed: number, levels: number): Float32Array {
  const generator = new MersenneTwister(seed);
  const rows = new Float32Array(count * dim);
  for (let i = 0; i < rows.length; i++) rows[i] = generator.nextUint32() % levels;
  return rows;
}
