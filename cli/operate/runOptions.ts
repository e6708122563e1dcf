// The run options of `npm start`, as far as they map onto the console input schema (src/domain/runConfig.ts).
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ConsoleInput } from '../../src/domain/runConfig';

export interface RunOptions {
  label?: string;
  k?: number;
  sampleSize?: number;
  predictorType?: 'classifier' | 'regressor';
  seed?: number;
  testFraction?: number;
}

export function integer(name: string, min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

function fraction(value: string) {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('must be a number between 0 and 1 (exclusive)');
  return n;
}

export function addRunOptions(command: Command): Command {
  return command
    .option('--label <column>', 'name of the label column (stage default: Species)')
    .option('--k <n>', 'neighbours (k-NN hyperparameter k)', integer('k', 1))
    .option('--sample-size <n>', 'training points sampled into the index', integer('sample size', 1))
    .addOption(new Option('--predictor-type <type>', 'classifier or regressor').choices(['classifier', 'regressor']))
    .option('--seed <n>', 'split seed', integer('seed', 0))
    .option('--test-fraction <f>', 'share of rows held out for testing', fraction);
}

export function hasRunOptions(options: RunOptions): boolean {
  return [options.label, options.k, options.sampleSize, options.predictorType, options.seed, options.testFraction].some(
    (v) => v !== undefined,
  );
}

/** The console input for a run on `key` (or the stage's default dataset) with these options; stage defaults fill the rest. */
export function consoleInput(key: string | undefined, options: RunOptions): ConsoleInput {
  const hyperparameters = { k: options.k, sample_size: options.sampleSize };
  const split = { testFraction: options.testFraction, seed: options.seed };
  const defined = <T extends object>(value: T) =>
    Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    ...(key ? { dataset: { key } } : {}),
    ...(options.label !== undefined ? { labelColumn: options.label } : {}),
    ...(options.predictorType ? { predictorType: options.predictorType } : {}),
    ...(Object.keys(defined(hyperparameters)).length ? { hyperparameters: defined(hyperparameters) } : {}),
    ...(Object.keys(defined(split)).length ? { split: defined(split) } : {}),
  };
}
