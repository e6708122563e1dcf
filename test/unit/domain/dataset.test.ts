import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DatasetError,
  parseFeatureCsv,
  parseLabelFirstCsv,
  prepareDataset,
  type PredictorType,
  toLabelFirstCsv,
} from '../../../src/domain/dataset';
import { describeWithPython, runPython, sklearnPython } from './python';

const FIXTURES = join(__dirname, '../../fixtures/csv');
const SOURCE = 's3://b/raw/x.csv';

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

function prepare(
  raw: Uint8Array | string,
  labelColumn = 'label',
  predictorType: PredictorType = 'classifier',
  maxProblems?: number,
) {
  return prepareDataset(raw, { source: SOURCE, labelColumn, predictorType, maxProblems });
}

/** The DatasetError thrown by `run`, so tests can look at its message and problems. */
function datasetError(run: () => unknown): DatasetError {
  try {
    run();
  } catch (error) {
    if (error instanceof DatasetError) return error;
    throw error;
  }
  throw new Error('expected a DatasetError, but nothing was thrown');
}

const IRIS_FEATURES = [
  [5.1, 3.5, 1.4, 0.2],
  [4.9, 3.0, 1.4, 0.2],
  [7.0, 3.2, 4.7, 1.4],
  [6.4, 3.2, 4.5, 1.5],
  [6.3, 3.3, 6.0, 2.5],
  [5.8, 2.7, 5.1, 1.9],
];

describe('prepareDataset: files that succeed', () => {
  test.each(['valid.csv', 'bom.csv', 'crlf.csv', 'trailing-blank-lines.csv'])('%s reads as the Iris sample', (name) => {
    const dataset = prepare(fixture(name), 'Species');
    expect(dataset).toEqual({
      featureNames: ['Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width'],
      labelColumn: 'Species',
      predictorType: 'classifier',
      classes: ['setosa', 'versicolor', 'virginica'],
      labels: [0, 0, 1, 1, 2, 2],
      features: IRIS_FEATURES,
      rowCount: 6,
      warnings: [],
    });
  });

  test('a string with a byte order mark reads like bytes', () => {
    const text = readFileSync(join(FIXTURES, 'bom.csv'), 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(prepare(text, 'Species').featureNames[0]).toBe('Sepal.Length');
  });

  test('quoted fields may hold commas: numeric features parse, and a quoted label with a comma is a label', () => {
    const dataset = prepare(fixture('quoted-commas.csv'));
    expect(dataset.features).toEqual([
      [1.5, 2],
      [3, 4],
      [5, 6.25],
      [7, 8],
    ]);
    expect(dataset.classes).toEqual(['setosa', 'wild, setosa']);
    expect(dataset.labels).toEqual([0, 1, 1, 0]);
  });

  test('whitespace around header names, values and labels is trimmed', () => {
    const dataset = prepare(fixture('whitespace.csv'));
    expect(dataset.featureNames).toEqual(['x', 'y']);
    expect(dataset.features).toEqual([
      [1.5, 2],
      [3, 4],
    ]);
    expect(dataset.classes).toEqual(['setosa', 'virginica']);
  });

  test('numeric class labels sort numerically; equal values are one class named by their first spelling', () => {
    const dataset = prepare(fixture('numeric-labels.csv'));
    expect(dataset.classes).toEqual(['1', '2', '10']);
    expect(dataset.labels).toEqual([2, 1, 0, 2, 1]);
  });

  test('text class labels sort by code point, like numpy', () => {
    const csv = 'x,label\n1,b\n2,B\n3,\u{1F600}\n4,\uFF21\n5,a\n';
    expect(prepare(csv).classes).toEqual(['B', 'a', 'b', '\uFF21', '\u{1F600}']);
  });

  test('a class with a single row succeeds with a warning naming it', () => {
    const dataset = prepare(fixture('singleton-class.csv'));
    expect(dataset.classes).toEqual(['a', 'b', 'c']);
    expect(dataset.warnings).toEqual([
      '1 class has a single row, too few to appear in both the training and the test data: "c"',
    ]);
  });

  test('2000 feature columns', () => {
    const dataset = prepare(fixture('wide.csv'));
    expect(dataset.featureNames).toHaveLength(2000);
    expect(dataset.featureNames[1999]).toBe('f1999');
    expect(dataset.features).toHaveLength(6);
    expect(dataset.features.every((row) => row.length === 2000)).toBe(true);
    expect(dataset.features[1][0]).toBe((2000 % 97) / 10);
  });

  test('a regressor keeps label values as they are and has no classes', () => {
    const dataset = prepare(fixture('regression.csv'), 'price', 'regressor');
    expect(dataset.classes).toBeNull();
    expect(dataset.labels).toEqual([250000, 180000.5, -1000]);
    expect(dataset.featureNames).toEqual(['rooms', 'area']);
  });

  test('the label column may be anywhere', () => {
    const dataset = prepare('label,x,y\na,1,2\nb,3,4\n');
    expect(dataset.featureNames).toEqual(['x', 'y']);
    expect(dataset.features).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});

describe('prepareDataset: files that fail', () => {
  test('every message line starts with the source', () => {
    const error = datasetError(() => prepare(fixture('bad-numbers.csv')));
    expect(error.name).toBe('DatasetError');
    expect(error.source).toBe(SOURCE);
    for (const line of error.message.split('\n')) expect(line.startsWith(SOURCE)).toBe(true);
  });

  test('empty file', () => {
    expect(datasetError(() => prepare(fixture('empty.csv'))).message).toBe(`${SOURCE}: is empty`);
    expect(datasetError(() => prepare(' \n\n \r\n')).message).toBe(`${SOURCE}: is empty`);
  });

  test('header only', () => {
    expect(datasetError(() => prepare(fixture('header-only.csv'), 'Species')).message).toBe(
      `${SOURCE}: has a header but no data rows`,
    );
  });

  test('missing label column lists the columns found and the label asked for', () => {
    const error = datasetError(() => prepare(fixture('missing-label.csv'), 'Species'));
    expect(error.message).toBe(
      `${SOURCE}: row 1: has no label column "Species" (did you mean "species"? names are case-sensitive); the header has 3 columns: "x", "y", "species"`,
    );
  });

  test('a header with many columns lists the first 50', () => {
    const error = datasetError(() => prepare(fixture('wide.csv'), 'target'));
    expect(error.message).toContain('the header has 2001 columns: "f0", "f1"');
    expect(error.message).toContain('"f49" and 1951 more');
  });

  test('duplicate column names are named with their positions', () => {
    const error = datasetError(() => prepare(fixture('duplicate-columns.csv')));
    expect(error.problems).toEqual([
      {
        row: 1,
        column: 'x',
        message: 'the column name appears 2 times in the header (columns 1, 3); column names must be unique',
      },
      {
        row: 1,
        column: 'y',
        message: 'the column name appears 2 times in the header (columns 2, 5); column names must be unique',
      },
    ]);
  });

  test('an empty header cell is named by its position', () => {
    expect(datasetError(() => prepare(fixture('empty-header-cell.csv'))).message).toBe(
      `${SOURCE}: row 1, column 2: the header cell is empty; every column needs a name`,
    );
  });

  test('a label column and nothing else', () => {
    expect(datasetError(() => prepare('label\na\nb\n')).message).toContain('at least one feature column is needed');
  });

  test('ragged rows: one problem per row', () => {
    expect(datasetError(() => prepare(fixture('ragged.csv'))).problems).toEqual([
      { row: 3, message: 'expected 3 fields (one per header column), got 2' },
      { row: 4, message: 'expected 3 fields (one per header column), got 4' },
    ]);
  });

  test('non-numeric, NaN, Infinity, -Infinity, empty, hex and overflowing feature cells', () => {
    const error = datasetError(() => prepare(fixture('bad-numbers.csv')));
    expect(error.message).toBe(
      [
        `${SOURCE}: row 3, column "x": expected a finite number, got "abc"`,
        `${SOURCE}: row 4, column "x": expected a finite number, got "NaN"`,
        `${SOURCE}: row 5, column "x": expected a finite number, got "Infinity"`,
        `${SOURCE}: row 6, column "x": expected a finite number, got "-Infinity"`,
        `${SOURCE}: row 7, column "x": expected a finite number, got an empty cell`,
        `${SOURCE}: row 8, column "x": expected a finite number, got "0x10"`,
        `${SOURCE}: row 8, column "y": expected a finite number, got "1e500"`,
      ].join('\n'),
    );
    expect(error.problemCount).toBe(7);
  });

  test('at most maxProblems are listed, then a count of the rest', () => {
    const error = datasetError(() => prepare(fixture('bad-numbers.csv'), 'label', 'classifier', 2));
    expect(error.problems).toHaveLength(2);
    expect(error.problemCount).toBe(7);
    expect(error.message.split('\n')).toEqual([
      `${SOURCE}: row 3, column "x": expected a finite number, got "abc"`,
      `${SOURCE}: row 4, column "x": expected a finite number, got "NaN"`,
      '... and 5 more problems',
    ]);
  });

  test('the default limit is 20 problems', () => {
    const csv = `x,label\n${Array.from({ length: 25 }, (_, i) => `oops,${'ab'[i % 2]}`).join('\n')}\n`;
    const error = datasetError(() => prepare(csv));
    expect(error.problems).toHaveLength(20);
    expect(error.message.endsWith('\n... and 5 more problems')).toBe(true);
  });

  test('row numbers are physical lines, even after quoted multi-line fields and CRLF', () => {
    expect(datasetError(() => prepare(fixture('multiline-quoted.csv'))).problems).toEqual([
      { row: 5, column: 'y', message: 'expected a finite number, got "oops"' },
      { row: 9, column: 'y', message: 'expected a finite number, got an empty cell' },
    ]);
  });

  test('empty label cell', () => {
    expect(datasetError(() => prepare(fixture('empty-label.csv'))).message).toBe(
      `${SOURCE}: row 3, column "label": the label is empty`,
    );
  });

  test('a regressor label must be a finite number', () => {
    expect(datasetError(() => prepare('x,price\n1,2\n3,cheap\n', 'price', 'regressor')).message).toBe(
      `${SOURCE}: row 3, column "price": expected a finite number, got "cheap"`,
    );
  });

  test('a single class names the class', () => {
    expect(datasetError(() => prepare(fixture('single-class.csv'))).message).toBe(
      `${SOURCE}: column "label": a classifier needs at least two classes, but every row has the label "setosa"`,
    );
  });

  test('bytes that are not UTF-8 are named by row and byte offset', () => {
    const error = datasetError(() => prepare(fixture('not-utf8.csv')));
    expect(error.message).toBe(
      `${SOURCE}: row 3: is not valid UTF-8: byte 0xe9 at byte offset 23 cannot be decoded; save the file as UTF-8`,
    );
    // The decoder's own error stays attached for the logs.
    expect(error.cause).toMatchObject({ name: 'TypeError', code: 'ERR_ENCODING_INVALID_ENCODED_DATA' });
  });

  test.each([
    ['not-csv.png', 'it starts like a PNG image'],
    ['not-csv.csv.gz', 'it starts like a gzip archive'],
  ])('%s does not look like CSV', (name, reason) => {
    expect(datasetError(() => prepare(fixture(name))).message).toBe(
      `${SOURCE}: does not look like a CSV text file: ${reason}`,
    );
  });

  test('NUL bytes mean it is not a CSV text file', () => {
    expect(datasetError(() => prepare(fixture('nul-bytes.csv'))).message).toBe(
      `${SOURCE}: row 3: does not look like a CSV text file: it contains a NUL byte at byte offset 18`,
    );
  });

  test('UTF-16 gets a hint to save as UTF-8', () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...Buffer.from('x,label\n', 'utf16le')]);
    expect(datasetError(() => prepare(utf16)).message).toContain('UTF-16 text; save it as UTF-8');
  });

  test('an unclosed quote names the row it opens on', () => {
    const error = datasetError(() => prepare('x,label\n1,a\n\n2,"b\n3,c\n'));
    expect(error.message).toBe(`${SOURCE}: row 4: a quoted field is never closed: the file ends inside quotes`);
    expect(error.cause).toMatchObject({ code: 'CSV_QUOTE_NOT_CLOSED' });
  });

  test('a stray quote inside a field is reported with its row', () => {
    const error = datasetError(() => prepare('x,label\n1,a\n2,b"c\n'));
    expect(error.problems[0].row).toBe(3);
    expect(error.message).toMatch(/^s3:\/\/b\/raw\/x\.csv: row 3: is not valid CSV: /);
  });

  test('maxProblems must be a positive integer', () => {
    expect(() => prepare(fixture('valid.csv'), 'Species', 'classifier', 0)).toThrow(RangeError);
  });
});

describe('toLabelFirstCsv', () => {
  test('writes label first, no header, one \\n-terminated line per row', () => {
    expect(
      toLabelFirstCsv(
        [0, 2],
        [
          [5.1, 3.5],
          [0.1, -2],
        ],
      ),
    ).toBe('0,5.1,3.5\n2,0.1,-2\n');
  });

  test('writes the selected rows in the given order', () => {
    expect(toLabelFirstCsv([0, 1, 2], [[10], [11], [12]], [2, 0])).toBe('2,12\n0,10\n');
    expect(toLabelFirstCsv([0], [[1]], [])).toBe('');
  });

  test('numbers round-trip exactly', () => {
    const features = [[0.1 + 0.2, 1e-300, -123456789.12345679, 2 ** 53]];
    expect(parseLabelFirstCsv(toLabelFirstCsv([1.5], features))).toEqual({ labels: [1.5], features });
  });

  test('accepts typed arrays', () => {
    expect(toLabelFirstCsv(Int32Array.from([1]), [Float32Array.from([0.5])])).toBe('1,0.5\n');
  });

  test.each([
    [[0], [[1], [2]], undefined, /1 labels but 2 feature rows/],
    [[0, 1], [[1], [2]], [2], /row index 2 is outside 0..1/],
    [[0, 1], [[1], [2, 3]], undefined, /row 1 has 2 features, expected 1/],
    [[0], [[Number.NaN]], undefined, /row 0, feature 0: NaN is not a finite number/],
  ])('rejects labels %p, features %p, rows %p', (labels, features, rows, message) => {
    expect(() => toLabelFirstCsv(labels, features, rows)).toThrow(message);
  });

  // Speed is measured by npm run bench, not here: this checks that 200k rows round-trip exactly.
  test('round-trips 200k rows exactly', () => {
    const n = 200_000;
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    const features = Array.from({ length: n }, (_, i) => [i / 7, i / 11, i / 13, i / 17]);
    const parsed = parseLabelFirstCsv(toLabelFirstCsv(labels, features));
    expect(parsed.labels).toEqual(labels);
    expect(parsed.features).toEqual(features);
  });
});

describe('parseLabelFirstCsv', () => {
  test('reads CRLF and ignores blank lines', () => {
    expect(parseLabelFirstCsv('1,2,3\r\n\r\n4,5,6\r\n')).toEqual({
      labels: [1, 4],
      features: [
        [2, 3],
        [5, 6],
      ],
    });
  });

  test('errors name the source, row and column index', () => {
    const error = datasetError(() => parseLabelFirstCsv('1,2\n3,x\n4,5,6\n', 's3://b/train/train.csv'));
    expect(error.message).toBe(
      [
        's3://b/train/train.csv: row 2, column 2: expected a finite number, got "x"',
        's3://b/train/train.csv: row 3: expected 2 fields like the first row, got 3',
      ].join('\n'),
    );
  });

  test('needs a label and at least one feature', () => {
    expect(datasetError(() => parseLabelFirstCsv('1\n2\n')).message).toBe(
      'label-first CSV: row 1: expected a label and at least one feature, got 1 field',
    );
  });

  test('rejects an empty text', () => {
    expect(datasetError(() => parseLabelFirstCsv('\n')).message).toBe('label-first CSV: is empty');
  });
});

describe('parseFeatureCsv', () => {
  test('reads rows of features', () => {
    expect(parseFeatureCsv('5.1,3.5,1.4,0.2\n6.2, 2.9 ,4.3,1.3')).toEqual([
      [5.1, 3.5, 1.4, 0.2],
      [6.2, 2.9, 4.3, 1.3],
    ]);
  });

  test('strict: errors name the row', () => {
    expect(datasetError(() => parseFeatureCsv('1,2\n\n1,Infinity\n1\n')).message).toBe(
      [
        'CSV payload: row 3, column 2: expected a finite number, got "Infinity"',
        'CSV payload: row 4: expected 2 fields like the first row, got 1',
      ].join('\n'),
    );
    expect(datasetError(() => parseFeatureCsv('')).message).toBe('CSV payload: is empty');
  });
});

describeWithPython(sklearnPython, 'scikit-learn', 'class order against scikit-learn LabelEncoder', (python) => {
  const textLabels = [
    'versicolor',
    'Setosa',
    'setosa',
    'b',
    'B',
    '_x',
    '10',
    'zebra',
    'Äpfel',
    'apfel',
    '\uFF21',
    '\u{1F600}',
    'é',
  ];
  const numericLabels = ['10', '2', '1', '-3', '0.5', '1e2'];
  const expected = runPython(
    python,
    `from sklearn.preprocessing import LabelEncoder
text = LabelEncoder().fit(data["text"]).classes_.tolist()
numeric = LabelEncoder().fit([float(v) for v in data["numeric"]]).classes_.tolist()
print(json.dumps({"text": text, "numeric": numeric}))`,
    { text: textLabels, numeric: numericLabels },
  ) as { text: string[]; numeric: number[] };

  test.each([
    ['text', textLabels],
    ['numeric', numericLabels],
  ] as const)('%s labels', (kind, labels) => {
    const csv = `x,label\n${labels.map((label, i) => `${i},${label}`).join('\n')}\n`;
    const classes = prepare(csv).classes!;
    expect(kind === 'numeric' ? classes.map(Number) : classes).toEqual(expected[kind]);
  });
});
