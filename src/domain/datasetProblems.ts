// What is wrong with a user's CSV, said the same way by the dataset reader and the channel parsers.
import { PipelineError } from '../errors';

export interface DatasetProblem {
  /** 1-based physical line of the file (the header is line 1), even with quoted multi-line fields. */
  row?: number;
  /** Column name from the header. */
  column?: string;
  /** 1-based column position, used when the column has no name. */
  columnIndex?: number;
  message: string;
}

export const DEFAULT_MAX_PROBLEMS = 20;
export const MAX_NAMES_LISTED = 50;
const MAX_VALUE_SHOWN = 60;
const FINITE_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export class DatasetError extends PipelineError {
  override name = 'DatasetError';
  readonly source: string;
  /** The first problems found (at most maxProblems). */
  readonly problems: DatasetProblem[];
  /** How many problems were found in all, listed or not. */
  readonly problemCount: number;

  constructor(
    source: string,
    problems: DatasetProblem[],
    problemCount: number = problems.length,
    options?: ErrorOptions,
  ) {
    super(formatProblems(source, problems, problemCount), options);
    this.source = source;
    this.problems = problems;
    this.problemCount = problemCount;
  }
}

/** Counts every problem and keeps the first `limit` for the message. */
export class ProblemList {
  private readonly listed: DatasetProblem[] = [];
  private count = 0;

  constructor(
    private readonly source: string,
    private readonly limit: number,
  ) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`maxProblems must be a positive integer, got ${limit}`);
  }

  add(problem: DatasetProblem): void {
    this.count++;
    if (this.listed.length < this.limit) this.listed.push(problem);
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  /** Adds a problem and throws with everything found so far; `cause` is the parser's own error, if any. */
  fail(problem: DatasetProblem, cause?: unknown): never {
    this.add(problem);
    throw this.toError(cause === undefined ? undefined : { cause });
  }

  throwIfAny(): void {
    if (this.count > 0) throw this.toError();
  }

  private toError(options?: ErrorOptions): DatasetError {
    return new DatasetError(this.source, this.listed, this.count, options);
  }
}

function formatProblems(source: string, problems: DatasetProblem[], problemCount: number): string {
  const lines = problems.map((problem) => `${source}: ${describeProblem(problem)}`);
  const unlisted = problemCount - problems.length;
  if (unlisted > 0) lines.push(`... and ${unlisted} more problem${unlisted === 1 ? '' : 's'}`);
  return lines.join('\n');
}

function describeProblem(problem: DatasetProblem): string {
  const where: string[] = [];
  if (problem.row !== undefined) where.push(`row ${problem.row}`);
  if (problem.column !== undefined) where.push(`column ${quote(problem.column)}`);
  else if (problem.columnIndex !== undefined) where.push(`column ${problem.columnIndex}`);
  return where.length === 0 ? problem.message : `${where.join(', ')}: ${problem.message}`;
}

/** Plain decimal notation only: no hex, no "Infinity", no "NaN", no empty cell. */
export function parseFiniteNumber(cell: string): number | undefined {
  const text = cell.trim();
  if (!FINITE_DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export function notANumberMessage(cell: string): string {
  const text = cell.trim();
  return text === '' ? 'expected a finite number, got an empty cell' : `expected a finite number, got ${quote(text)}`;
}

export function quote(value: string): string {
  const shown = value.length > MAX_VALUE_SHOWN ? `${value.slice(0, MAX_VALUE_SHOWN)}…` : value;
  return JSON.stringify(shown);
}
