// The streaming DatasetReader against what the in-memory reader wrote before it (golden channel hashes) and against
// that reader itself (support/inMemoryDataset.ts), for any chunking of the bytes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DatasetError,
  DatasetReader,
  type PredictorType,
  prepareDataset,
  type PreparedSummary,
} from '../../../src/domain/dataset';
import { quotedStretchTuning } from '../../../src/domain/datasetReader';
import { kFold, trainTestSplit } from '../../../src/domain/split';
import { prepareDataset as prepareInMemory } from './support/inMemoryDataset';

const ROOT = join(__dirname, '../../..');
const SOURCE = 's3://b/raw/x.csv';

/** A seeded generator (mulberry32), so every run fuzzes the same files. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const int = (random: Random, max: number): number => Math.floor(random() * max);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)];
const chance = (random: Random, p: number): boolean => random() < p;

/** Chunk boundaries: one chunk, single bytes, or random sizes (mostly small, sometimes large). */
function chunked(bytes: Uint8Array, kind: 'whole' | 'bytes' | 'random', random?: Random): Uint8Array[] {
  if (kind === 'whole') return [bytes];
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = kind === 'bytes' ? 1 : chance(random!, 0.7) ? 1 + int(random!, 8) : 1 + int(random!, 200);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

type Outcome =
  | { ok: true; summary: PreparedSummary; lines: string[] }
  | { ok: false; name: string; message: string; problems: unknown; problemCount: number; cause?: unknown };

function describeCause(cause: unknown): unknown {
  if (!(cause instanceof Error)) return cause;
  return { name: cause.name, message: cause.message, code: (cause as { code?: unknown }).code };
}

function failure(error: unknown): Outcome {
  if (!(error instanceof Error) || error.name !== 'DatasetError') throw error;
  const { problems, problemCount } = error as DatasetError;
  return {
    ok: false,
    name: error.name,
    message: error.message,
    problems,
    problemCount,
    ...(error.cause === undefined ? {} : { cause: describeCause(error.cause) }),
  };
}

function read(
  chunks: Uint8Array[],
  labelColumn: string,
  predictorType: string,
  maxProblems?: number,
  source = SOURCE,
): Outcome {
  const options = { source, labelColumn, predictorType: predictorType as PredictorType, maxProblems };
  try {
    const reader = new DatasetReader(options);
    let text = '';
    for (const chunk of chunks) text += reader.push(chunk);
    const end = reader.finish();
    text += end.text;
    expect(text === '' || text.endsWith('\n')).toBe(true);
    return { ok: true, summary: end.summary, lines: text === '' ? [] : text.slice(0, -1).split('\n') };
  } catch (error) {
    return failure(error);
  }
}

/** What the in-memory reader made of the same file, in the reader's terms. */
function oracle(raw: Uint8Array | string, labelColumn: string, predictorType: string, maxProblems?: number): Outcome {
  const options = { source: SOURCE, labelColumn, predictorType: predictorType as PredictorType, maxProblems };
  try {
    const dataset = prepareInMemory(raw, options);
    const classCounts = dataset.classes
      ? Object.fromEntries(dataset.classes.map((name, c) => [name, dataset.labels.filter((l) => l === c).length]))
      : null;
    return {
      ok: true,
      summary: {
        featureNames: dataset.featureNames,
        labelColumn: dataset.labelColumn,
        predictorType: dataset.predictorType,
        classes: dataset.classes,
        rowCount: dataset.rowCount,
        warnings: dataset.warnings,
        labels: Float64Array.from(dataset.labels),
        classCounts,
        categorical: [],
        dropped: [],
      },
      lines: dataset.features.map((row) => row.map(String).join(',')),
    };
  } catch (error) {
    return failure(error);
  }
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The channel text toLabelFirstCsv writes for `rows`, from the reader's labels and feature lines. */
function channel(labels: Float64Array, lines: string[], rows: ArrayLike<number>): string {
  let text = '';
  for (let k = 0; k < rows.length; k++) text += `${String(labels[rows[k]])},${lines[rows[k]]}\n`;
  return text;
}

interface GoldenConfig {
  seed: number;
  testFraction: number;
  train?: string;
  test?: string;
  splitError?: string;
  folds: number | Array<{ train: string; test: string }>;
  foldError?: string;
}
type GoldenEntry =
  | { rows: number; classes: string[] | null; warnings: string[]; configs: GoldenConfig[] }
  | { error: string; message: string };

const golden = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/channels/golden.json'), 'utf8')) as Record<
  string,
  GoldenEntry
>;

function recompute(outcome: Outcome, entry: GoldenEntry): GoldenEntry {
  if (!outcome.ok) return { error: outcome.name, message: outcome.message };
  const { summary, lines } = outcome;
  expect(lines).toHaveLength(summary.rowCount);
  expect(summary.labels).toHaveLength(summary.rowCount);
  if (!('configs' in entry))
    return { rows: summary.rowCount, classes: summary.classes, warnings: summary.warnings, configs: [] };
  const configs = entry.configs.map(({ seed, testFraction, folds }) => {
    const config: GoldenConfig = { seed, testFraction, folds: 0 };
    try {
      const split = trainTestSplit(summary.rowCount, { seed, testFraction });
      config.train = sha256(channel(summary.labels, lines, split.train));
      config.test = sha256(channel(summary.labels, lines, split.test));
    } catch (error) {
      config.splitError = (error as Error).message;
    }
    const foldCount = typeof folds === 'number' ? folds : folds.length;
    config.folds = foldCount;
    try {
      config.folds = kFold(summary.rowCount, foldCount, seed).map((fold) => ({
        train: sha256(channel(summary.labels, lines, fold.train)),
        test: sha256(channel(summary.labels, lines, fold.test)),
      }));
    } catch (error) {
      config.foldError = (error as Error).message;
    }
    return config;
  });
  return { rows: summary.rowCount, classes: summary.classes, warnings: summary.warnings, configs };
}

describe('DatasetReader: the channels of the in-memory data path, byte for byte (test/fixtures/channels)', () => {
  const entries = Object.entries(golden).map(([key, entry]) => {
    const file = key.slice(0, key.indexOf('|'));
    const predictorType = key.slice(key.lastIndexOf('|') + 1);
    const labelColumn = key.slice(file.length + 1, key.length - predictorType.length - 1);
    return { key, file, labelColumn, predictorType, entry };
  });

  test('covers the bad-input corpus, the public datasets and Iris', () => {
    expect(entries.length).toBeGreaterThanOrEqual(60);
    expect(entries.some((e) => e.file === 'data/iris.csv')).toBe(true);
    expect(entries.some((e) => e.file.startsWith('test/fixtures/datasets/'))).toBe(true);
  });

  test.each(entries.map((e) => [e.key.replace(/[^\x20-\x7e]/g, '?'), e] as const))(
    '%s',
    (_, { file, labelColumn, predictorType, entry }) => {
      const bytes = new Uint8Array(readFileSync(join(ROOT, file)));
      // The golden file names each file's source by its base name.
      const source = `s3://b/${file.slice(file.lastIndexOf('/') + 1)}`;
      const random = generator(bytes.length);
      for (const kind of ['whole', 'bytes', 'random', 'random'] as const) {
        const outcome = read(chunked(bytes, kind, random), labelColumn, predictorType, undefined, source);
        expect(recompute(outcome, entry)).toEqual(entry);
      }
    },
  );
});

// Pieces of CSV files, from plain to pathological.
const PLAIN_NUMBERS = ['0', '1', '-1', '5.1', '3.50', '0.2000', '-0.0500', '12', '100', '7.25', '-3.1416', '0.0001'];
const ODD_NUMBERS = [
  '-0',
  '-0.0',
  '0.000',
  '00',
  '007',
  '0.0000001',
  '0.000001',
  '-0.000001',
  '.5',
  '5.',
  '+1',
  '+0.5',
  '1e3',
  '1E-3',
  '2.5e+2',
  '1e500',
  '-1e-400',
  '123456789012345',
  '1234567890123456',
  '12345678901234567890',
  '0.123456789012345',
  '0.1234567890123456',
  '9007199254740993',
  '1.000000000000000000001',
  '4.35000000000000000',
  '0x10',
  'NaN',
  'Infinity',
  '-Infinity',
  'abc',
  '',
  ' ',
  '1,5',
  '١٢',
  '1_000',
  '--1',
  '1.2.3',
  '.',
  '-',
];
const TEXT_LABELS = ['setosa', 'versicolor', 'virginica', 'a', 'b', 'B', 'Äpfel', 'zebra crossing', '\u{1F600}', 'é'];
const NUMERIC_LABELS = ['1', '2', '10', '1.0', '-3', '0.5', '2.50', '1e2', '0'];
const SPACES = ['', '', '', ' ', '  ', '\t', ' \t', '\u00a0', '\u3000', '\u000b', '\u000c', '\ufeff'];
// Quotes that csv-parse reads in its own way or rejects.
const QUOTE_TROUBLE = [
  '"a"b',
  'a"b',
  '"open',
  '"x" y',
  '"1""2"',
  '"5.1" x',
  '"1"2',
  '""',
  ' "" ',
  '"a,b"',
  '"5x',
  '"7',
  '"1 2"',
  ' "3" ',
];
const BLANK_LINES = ['', '', ' ', '\t', '  \t ', '\u00a0', '\u2003 ', '\u000c', '\u000b'];

function csvQuote(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

function decorate(random: Random, cell: string): string {
  let text = cell;
  if (chance(random, 0.15)) text = pick(random, SPACES) + text + pick(random, SPACES);
  if (chance(random, 0.08)) text = csvQuote(text);
  if (chance(random, 0.05)) text = pick(random, [' ', '\t', '']) + text + pick(random, [' ', '  ', '\t', '']);
  return text;
}

/** A random CSV text and the reading options to go with it; `dirty` adds defects of every kind. */
function randomCsv(random: Random): { text: string; labelColumn: string; predictorType: string; maxProblems?: number } {
  const dirty = chance(random, 0.4);
  const featureCount = 1 + int(random, 4);
  const names = Array.from({ length: featureCount }, (_, j) => pick(random, ['x', 'y', 'petal', 'w', 'f']) + j);
  const labelAt = int(random, featureCount + 1);
  const labelColumn = pick(random, ['label', 'Species', 'price', 'class name']);
  names.splice(labelAt, 0, labelColumn);
  if (dirty && chance(random, 0.05)) names[int(random, names.length)] = pick(random, ['', 'x0', 'LABEL', ' ']);
  const regressor = chance(random, 0.35);
  const labels = regressor || chance(random, 0.4) ? NUMERIC_LABELS : TEXT_LABELS;
  const classCount = 1 + int(random, labels.length);
  const rowCount = int(random, 30);
  const lines: string[] = [names.map((name) => (chance(random, 0.1) ? csvQuote(name) : name)).join(',')];
  for (let i = 0; i < rowCount; i++) {
    if (chance(random, 0.08)) lines.push(pick(random, BLANK_LINES));
    const cells = names.map((_, j) => {
      if (j === labelAt) {
        let label = labels[int(random, classCount)];
        if (dirty && chance(random, 0.05)) label = pick(random, ['', 'wild, setosa', 'two\nlines', 'say "hi"', ' ']);
        return /[,"\n]/.test(label) ? csvQuote(label) : decorate(random, label);
      }
      const number = dirty && chance(random, 0.1) ? pick(random, ODD_NUMBERS) : pick(random, PLAIN_NUMBERS);
      return /[,"]/.test(number) ? csvQuote(number) : decorate(random, number);
    });
    if (dirty && chance(random, 0.04)) cells.pop();
    if (dirty && chance(random, 0.04)) cells.push('9');
    if (dirty && chance(random, 0.05)) {
      cells[int(random, cells.length)] = pick(random, QUOTE_TROUBLE);
    }
    if (dirty && chance(random, 0.02)) cells[int(random, cells.length)] = csvQuote(`multi\n\nline ${i}`);
    lines.push(cells.join(','));
  }
  if (chance(random, 0.1)) lines.push(...Array.from({ length: 1 + int(random, 3) }, () => pick(random, BLANK_LINES)));
  const style = pick(random, ['\n', '\n', '\r\n', '\r', 'mixed'] as const);
  let text = '';
  lines.forEach((line, i) => {
    const lineEnd = style === 'mixed' ? pick(random, ['\n', '\r\n', '\r']) : style;
    text += line + (i < lines.length - 1 || chance(random, 0.7) ? lineEnd : '');
  });
  if (chance(random, 0.08)) text = `\uFEFF${text}`;
  return {
    text,
    labelColumn: dirty && chance(random, 0.03) ? 'missing' : labelColumn,
    predictorType: regressor ? 'regressor' : pick(random, ['classifier', 'multiclass_classifier']),
    maxProblems: chance(random, 0.3) ? 1 + int(random, 5) : undefined,
  };
}

/** Byte-level damage: a NUL, bytes that are not UTF-8, a binary signature, a cut multi-byte character. */
function damage(random: Random, bytes: Uint8Array): Uint8Array {
  const out = Array.from(bytes);
  const at = () => int(random, out.length + 1);
  switch (int(random, 7)) {
    case 0:
      out.splice(at(), 0, 0);
      break;
    case 1:
      out.splice(at(), 0, pick(random, [0xff, 0xc3, 0xe9, 0x80, 0xed, 0xf4]), ...(chance(random, 0.5) ? [0xa0] : []));
      break;
    case 2:
      out.splice(
        0,
        0,
        ...pick(random, [
          [0x1f, 0x8b],
          [0x50, 0x4b, 0x03, 0x04],
          [0xff, 0xfe],
          [0xfd, 0x37, 0x7a, 0x58, 0x5a],
        ]),
      );
      break;
    case 3:
      out.splice(at(), 0, 0xe2, 0x82);
      break;
    case 4:
      out.splice(at(), 0, 0);
      out.splice(at(), 0, 0xc0, 0xaf);
      break;
    case 5:
      out.splice(out.length, 0, 0xf0, 0x9f, 0x98);
      break;
    default:
      out.splice(at(), 0, 0xe9);
      out.splice(at(), 0, 0);
  }
  return Uint8Array.from(out);
}

function expectSame(actual: Outcome, expected: Outcome, context: () => string): void {
  if (!expected.ok || !actual.ok) {
    if (actual.ok !== expected.ok || JSON.stringify(actual) !== JSON.stringify(expected)) {
      expect({ context: context(), ...actual }).toEqual({ context: context(), ...expected });
    }
    return;
  }
  expect({ context: context(), ...actual.summary, lines: actual.lines }).toEqual({
    context: context(),
    ...expected.summary,
    lines: expected.lines,
  });
}

describe.each([
  ['', quotedStretchTuning.minBytes],
  [', quoted stretches as short as can be', 0],
])('DatasetReader against the in-memory reader it replaced (seeded fuzz%s)', (_, minBytes) => {
  const defaultMinBytes = quotedStretchTuning.minBytes;
  beforeAll(() => {
    quotedStretchTuning.minBytes = minBytes;
  });
  afterAll(() => {
    quotedStretchTuning.minBytes = defaultMinBytes;
  });

  test('random CSVs, whole and chunked at random', () => {
    const random = generator(13);
    let failures = 0;
    for (let n = 0; n < 1500; n++) {
      const csv = randomCsv(random);
      let bytes: Uint8Array = new TextEncoder().encode(csv.text);
      if (chance(random, 0.12)) bytes = damage(random, bytes);
      const expected = oracle(bytes, csv.labelColumn, csv.predictorType, csv.maxProblems);
      if (!expected.ok) failures++;
      for (const kind of ['whole', 'random', 'random'] as const) {
        const actual = read(chunked(bytes, kind, random), csv.labelColumn, csv.predictorType, csv.maxProblems);
        expectSame(
          actual,
          expected,
          () => `case ${n} (${kind}): ${JSON.stringify(Buffer.from(bytes).toString('latin1'))}`,
        );
      }
    }
    // Both kinds of outcome are well represented.
    expect(failures).toBeGreaterThan(300);
    expect(failures).toBeLessThan(1200);
  });

  test('every cut point of small files (CRLF, UTF-8 sequences, BOM and signatures split across chunks)', () => {
    const random = generator(7);
    for (let n = 0; n < 150; n++) {
      const csv = randomCsv(random);
      let bytes: Uint8Array = new TextEncoder().encode(csv.text);
      if (bytes.length > 400) continue;
      if (chance(random, 0.3)) bytes = damage(random, bytes);
      const expected = oracle(bytes, csv.labelColumn, csv.predictorType, csv.maxProblems);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
        const actual = read(chunks, csv.labelColumn, csv.predictorType, csv.maxProblems);
        expectSame(
          actual,
          expected,
          () => `case ${n}, cut ${cut}: ${JSON.stringify(Buffer.from(bytes).toString('latin1'))}`,
        );
      }
    }
  });

  test('a quote never closed: the row is the first line with more than white space after the last record', () => {
    const random = generator(31);
    for (let n = 0; n < 400; n++) {
      const lines = ['x,label'];
      const row = () =>
        `${pick(random, PLAIN_NUMBERS)},${chance(random, 0.3) ? csvQuote(pick(random, TEXT_LABELS)) : 'a'}`;
      for (let i = int(random, 6); i > 0; i--) lines.push(chance(random, 0.2) ? pick(random, BLANK_LINES) : row());
      // A record over many lines: csv-parse only reports where records end.
      if (chance(random, 0.15))
        lines.push(`1,${csvQuote(Array.from({ length: 60 + int(random, 100) }, (_, i) => `l${i}`).join('\n'))}`);
      for (let i = int(random, 3); i > 0; i--) lines.push(chance(random, 0.2) ? pick(random, BLANK_LINES) : row());
      for (let i = int(random, 4); i > 0; i--) lines.push(pick(random, BLANK_LINES));
      lines.push(pick(random, ['1,"open', '"', '2, "b', ' "x,', '"a""b']));
      for (let i = chance(random, 0.1) ? 200 : int(random, 5); i > 0; i--) {
        lines.push(chance(random, 0.5) ? pick(random, BLANK_LINES) : row());
      }
      const text = lines.join(pick(random, ['\n', '\r\n', '\r'])) + pick(random, ['', '\n']);
      const bytes = new TextEncoder().encode(text);
      const expected = oracle(bytes, 'label', 'classifier');
      expect(expected.ok).toBe(false);
      for (const kind of ['whole', 'random'] as const) {
        expectSame(read(chunked(bytes, kind, random), 'label', 'classifier'), expected, () => JSON.stringify(text));
      }
    }
  });

  test('strings read as text, like the in-memory reader read them', () => {
    const random = generator(99);
    for (let n = 0; n < 300; n++) {
      const csv = randomCsv(random);
      const text = chance(random, 0.1) ? `${csv.text.slice(0, 10)}\u0000${csv.text.slice(10)}` : csv.text;
      const expected = oracle(text, csv.labelColumn, csv.predictorType, csv.maxProblems);
      let actual: Outcome;
      try {
        const options = {
          source: SOURCE,
          labelColumn: csv.labelColumn,
          predictorType: csv.predictorType as PredictorType,
          maxProblems: csv.maxProblems,
        };
        const dataset = prepareDataset(text, options);
        const expectedDataset = prepareInMemory(text, options);
        // prepareDataset reads the features back from the prepared text, which writes -0 as "0", as the channels do.
        const features = expectedDataset.features.map((row) => row.map((value) => (value === 0 ? 0 : value)));
        expect(dataset).toEqual({ ...expectedDataset, features });
        continue;
      } catch (error) {
        actual = failure(error);
      }
      expectSame(actual, expected, () => `case ${n}: ${JSON.stringify(text)}`);
    }
  });

  test('numbers in every notation are written as String(Number(cell))', () => {
    const random = generator(5);
    const digits = (count: number) => Array.from({ length: count }, () => String(int(random, 10))).join('');
    const cells: string[] = [];
    for (let n = 0; n < 20000; n++) {
      const sign = pick(random, ['', '', '-', '+']);
      const integer = chance(random, 0.3) ? '0' : digits(int(random, 18));
      const fraction = chance(random, 0.7)
        ? `.${'0'.repeat(chance(random, 0.3) ? int(random, 8) : 0)}${digits(int(random, 18))}`
        : '';
      const exponent = chance(random, 0.1) ? `e${pick(random, ['', '-', '+'])}${int(random, 30)}` : '';
      const cell = sign + integer + fraction + exponent;
      if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(cell)) cells.push(cell);
    }
    const text = `x,label\n${cells.map((cell, i) => `${cell},${i % 2}`).join('\n')}\n`;
    const bytes = new TextEncoder().encode(text);
    const actual = read(chunked(bytes, 'random', random), 'label', 'classifier');
    expect(actual.ok && actual.lines).toEqual(cells.map((cell) => String(Number(cell))));
    const regressor = read(
      [new TextEncoder().encode(`label,x\n${cells.map((cell) => `${cell},1`).join('\n')}\n`)],
      'label',
      'regressor',
    );
    expect(regressor.ok && Array.from(regressor.summary.labels)).toEqual(cells.map(Number));
  });

  test('long files: quoted stretches that end and start again, and errors far into the file', () => {
    const random = generator(21);
    for (let n = 0; n < 6; n++) {
      const lines = ['"x",y,label'];
      const rows = 15000 + int(random, 15000);
      for (let i = 0; i < rows; i++) {
        const label = pick(random, ['a', 'b', 'c']);
        const quoted = chance(random, 0.02);
        const multiline = chance(random, 0.002);
        lines.push(
          `${pick(random, PLAIN_NUMBERS)},${pick(random, PLAIN_NUMBERS)},${quoted ? csvQuote(multiline ? `${label}\n` : label) : label}`,
        );
        if (chance(random, 0.01)) lines.push('');
      }
      if (n === 2) lines[lines.length - 100] = '1,2,"open';
      if (n === 3) lines[lines.length - 50] = '1,2,a"b';
      if (n === 4) lines[lines.length - 10] = '1,oops,a';
      if (n === 5) lines.splice(lines.length - 200, 0, '"never closed', ...lines.slice(1, 40));
      const text = lines.join(n % 2 === 0 ? '\n' : '\r\n') + (n === 1 ? '' : '\n');
      const bytes = new TextEncoder().encode(text);
      const expected = oracle(bytes, 'label', 'classifier');
      for (const size of [1 << 16, 4093]) {
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
        expectSame(read(chunks, 'label', 'classifier'), expected, () => `long file ${n}, chunks of ${size}`);
      }
    }
  });
});

describe('DatasetReader', () => {
  const options = { source: SOURCE, labelColumn: 'label', predictorType: 'classifier' as const };

  test('push returns the rows its bytes complete; finish returns the last line and the summary', () => {
    const reader = new DatasetReader(options);
    expect(reader.push(Buffer.from('x,y,lab'))).toBe('');
    expect(reader.push(Buffer.from('el\n1.50,2,b\n3, 4 ,a\n5,'))).toBe('1.5,2\n3,4\n');
    expect(reader.push(Buffer.from('6,a'))).toBe('');
    const { text, summary } = reader.finish();
    expect(text).toBe('5,6\n');
    expect(summary).toEqual({
      featureNames: ['x', 'y'],
      labelColumn: 'label',
      predictorType: 'classifier',
      classes: ['a', 'b'],
      rowCount: 3,
      warnings: ['1 class has a single row, too few to appear in both the training and the test data: "b"'],
      labels: Float64Array.from([1, 0, 0]),
      classCounts: { a: 2, b: 1 },
      categorical: [],
      dropped: [],
    });
    expect(summary.labels.buffer.byteLength).toBe(3 * 8);
  });

  describe('feature options', () => {
    const CSV = 'id,colour,width,label\nr1,red,1.50,a\nr2,blue,2,b\nr3, Grün ,3,a\nr4,7.0,4,b\n';
    const read = (categorical: string[] | 'auto', drop: string[] = []) => {
      const reader = new DatasetReader({
        source: SOURCE,
        labelColumn: 'label',
        predictorType: 'classifier',
        categorical,
        drop,
      });
      const text = reader.push(Buffer.from(CSV));
      const end = reader.finish();
      return { text: text + end.text, summary: end.summary };
    };

    test('listed categorical columns keep their text (trimmed; numbers in shortest form); dropped ones are left out', () => {
      const { text, summary } = read(['colour'], ['id']);
      expect(text).toBe('red,1.5\nblue,2\nGrün,3\n7,4\n');
      expect(summary).toMatchObject({ featureNames: ['colour', 'width'], categorical: ['colour'], dropped: ['id'] });
    });

    test('auto makes every column with a non-numeric value categorical', () => {
      const { summary } = read('auto');
      expect(summary).toMatchObject({ featureNames: ['id', 'colour', 'width'], categorical: ['id', 'colour'] });
    });

    test('a text value in a column not listed is still refused; unknown columns are named', () => {
      expect(() => read(['id'])).toThrow(/column "colour": expected a finite number, got "red"/);
      expect(() => read(['color'], ['ID'])).toThrow(
        /features\.categorical names the column "color", which is not in the header[\s\S]*features\.drop names the column "ID"/,
      );
    });
  });

  test('a binary signature throws at once, even when it arrives a byte at a time', () => {
    const reader = new DatasetReader(options);
    expect(reader.push(Uint8Array.of(0x89))).toBe('');
    expect(reader.push(Uint8Array.of(0x50, 0x4e))).toBe('');
    expect(() => reader.push(Uint8Array.of(0x47, 0x0d, 0x0a))).toThrow(/it starts like a PNG image/);
  });

  test('a NUL byte throws at once, after rows that already came out', () => {
    const reader = new DatasetReader(options);
    expect(reader.push(Buffer.from('x,label\n1,a\n'))).toBe('1\n');
    expect(() => reader.push(Buffer.from('2,b\n3\u0000,a\n'))).toThrow(
      `${SOURCE}: row 4: does not look like a CSV text file: it contains a NUL byte at byte offset 17`,
    );
    // The reader stays failed.
    expect(() => reader.finish()).toThrow(/NUL byte/);
  });

  test('a problem in the rows waits for the end of the file, where a NUL byte would come first', () => {
    const reader = new DatasetReader(options);
    expect(reader.push(Buffer.from('x,x,label\n1,2,a\n'))).toBe('');
    expect(() => reader.push(Buffer.from('\u0000'))).toThrow(/NUL byte at byte offset 16/);
  });

  test('rows with problems, and every row after the first problem, are not written', () => {
    const reader = new DatasetReader(options);
    expect(reader.push(Buffer.from('x,label\n1,a\noops,b\n2,a\n'))).toBe('1\n');
    expect(() => reader.finish()).toThrow(`${SOURCE}: row 3, column "x": expected a finite number, got "oops"`);
  });

  test('regressor labels are the values', () => {
    const reader = new DatasetReader({ ...options, predictorType: 'regressor' });
    reader.push(Buffer.from('label,x\n-0,1\n2.50,2\n1e3,3\n'));
    const { summary } = reader.finish();
    expect(Array.from(summary.labels)).toEqual([-0, 2.5, 1000]);
    expect(summary.classes).toBeNull();
    expect(summary.classCounts).toBeNull();
  });
});
