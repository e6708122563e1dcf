import { parseLabelFirstCsv } from '../../../src/domain/dataset';
import { type ChannelParserOptions, LabelFirstCsvParser, parseChannelText } from '../../../local/knn/channelParser';
import { KnnClientError } from '../../../local/knn/errors';
import { MersenneTwister } from '../../../src/domain/random';

const options = (featureDim: number, extra: Partial<ChannelParserOptions> = {}): ChannelParserOptions => ({
  source: 'channel "train"',
  channel: 'train',
  featureDim,
  classifier: false,
  ...extra,
});

/** Every row's label and features as plain numbers (features rounded to float32, as the index stores them). */
function rowsOf(text: string, featureDim: number, extra: Partial<ChannelParserOptions> = {}) {
  const rows = parseChannelText(text, options(featureDim, extra));
  return {
    labels: Array.from(rows.labelRange(0, rows.count)),
    features: Array.from({ length: rows.count }, (_, i) => Array.from(rows.featureRange(i, i + 1))),
  };
}

/** What the trainer read before: parseLabelFirstCsv, features rounded to float32. */
function reference(text: string) {
  const { labels, features } = parseLabelFirstCsv(text, 'channel "train"');
  return { labels, features: features.map((row) => row.map((value) => Math.fround(value))) };
}

function clientError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KnnClientError);
    return (error as Error).message;
  }
  throw new Error('expected a ClientError');
}

describe('LabelFirstCsvParser', () => {
  test('reads what parseLabelFirstCsv reads: notations, whitespace, CRLF, blank lines', () => {
    const text = [
      '0, 5.1,3.5 ,1.4',
      '',
      '1,-0.0,+2.,.5',
      '  ',
      '2,1e3,1.5E-7,-12345678901234567890',
      '3,0.1000000000000000055511151231257827,123456789012345.6,7\r',
      '4,\u00a08\u00a0,0.000000000000000000000000001,9.999999999999999e22',
      '5,3.4028235e38,1.17549435e-38,-0',
    ].join('\n');
    expect(rowsOf(text, 3)).toEqual(reference(text));
  });

  test('decimal numbers parse exactly as Number() does (fast path and fallback)', () => {
    const generator = new MersenneTwister(7);
    const cells: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const digits = 1 + (generator.nextUint32() % 19);
      let mantissa = '';
      for (let d = 0; d < digits; d++) mantissa += String(generator.nextUint32() % 10);
      const point = generator.nextUint32() % (digits + 1);
      const sign = ['', '-', '+'][generator.nextUint32() % 3];
      cells.push(`${sign}${mantissa.slice(0, point)}.${mantissa.slice(point)}`.replace(/^([+-]?)\.$/, '$10'));
    }
    const text = cells.map((cell, i) => `${i % 3},${cell}`).join('\n');
    const rows = parseChannelText(text, options(1));
    const expected = reference(text);
    expect(Array.from(rows.labelRange(0, rows.count))).toEqual(expected.labels);
    expect(Array.from(rows.featureRange(0, rows.count))).toEqual(expected.features.flat());
  });

  test('chunks split anywhere, across storage blocks, give the same rows', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `${i % 4},${i * 0.5},${-i},${i / 3}`);
    const text = `${lines.join('\n')}\n`;
    const whole = rowsOf(text, 3);
    for (const size of [1, 2, 7, 64]) {
      const parser = new LabelFirstCsvParser(options(3, { blockRows: 8 }));
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; at += size) parser.write(bytes.subarray(at, at + size));
      const rows = parser.end();
      expect(rows.count).toBe(50);
      expect(Array.from(rows.labelRange(0, 50))).toEqual(whole.labels);
      expect(Array.from(rows.featureRange(3, 47))).toEqual(whole.features.slice(3, 47).flat());
    }
  });

  test('an object without a final newline ends its last row; line numbers go on across objects', () => {
    const parser = new LabelFirstCsvParser(options(2));
    parser.write('0,1,2\n1,3,4');
    parser.endObject();
    parser.write('2,5,6\n3,x,8\n');
    parser.endObject();
    expect(clientError(() => parser.end())).toBe(
      'ClientError: Unable to read the training data (text/csv, label first, no header): channel "train": row 4, column 2: expected a finite number, got "x"',
    );

    const ok = new LabelFirstCsvParser(options(2));
    ok.write('0,1,2\n1,3,4');
    ok.endObject();
    ok.write('2,5,6\n');
    expect(Array.from(ok.end().labelRange(0, 3))).toEqual([0, 1, 2]);
  });

  test('problems are listed like parseLabelFirstCsv lists them: the first 20, then a count', () => {
    const text = ['0,1,2', '1,2', ...Array.from({ length: 21 }, (_, i) => `${i},a,`)].join('\n');
    const message = clientError(() => parseChannelText(text, options(2)));
    const lines = message.split('\n');
    expect(lines[0]).toBe(
      'ClientError: Unable to read the training data (text/csv, label first, no header): channel "train": row 2: expected 3 fields like the first row, got 2',
    );
    expect(lines[1]).toBe('channel "train": row 3, column 2: expected a finite number, got "a"');
    expect(lines[2]).toBe('channel "train": row 3, column 3: expected a finite number, got an empty cell');
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe('... and 23 more problems');
  });

  test('an empty channel, a row without features, a width other than feature_dim, a non-class label', () => {
    expect(clientError(() => parseChannelText('\n \n', options(2)))).toMatch(/channel "train": is empty$/);
    expect(clientError(() => parseChannelText('1\n2\n', options(2)))).toMatch(
      /channel "train": row 1: expected a label and at least one feature, got 1 field$/,
    );
    expect(clientError(() => parseChannelText('0,1,2\n1,2,3\n', options(3)))).toBe(
      'ClientError: feature_dim hyperparameter is 3 but channel "train" row 1 has 2 features (columns after the label).',
    );
    // a parse problem anywhere is reported before the width
    expect(clientError(() => parseChannelText('0,1,2\n1,2,z\n', options(3)))).toMatch(/row 2, column 3/);
    expect(clientError(() => parseChannelText('0,1\n\n2.5,1\n', options(1, { classifier: true })))).toBe(
      'ClientError: predictor_type is classifier but channel "train" row 2 has label 2.5; classifier labels must be class indices (integers 0, 1, 2, …).',
    );
  });

  test('a large channel stays in fixed-size typed-array blocks: float32 features, float64 labels', () => {
    const dim = 16;
    const rowCount = 100_000;
    const blockRows = 4096;
    const parser = new LabelFirstCsvParser(options(dim, { blockRows, classifier: true }));
    let chunk = '';
    for (let row = 0; row < rowCount; row++) {
      let line = String(row % 5);
      for (let j = 0; j < dim; j++) line += `,${((row * 31 + j * 7) % 1000) / 8}`;
      chunk += `${line}\n`;
      if (chunk.length > 60_000) {
        parser.write(Buffer.from(chunk));
        chunk = '';
      }
    }
    parser.write(Buffer.from(chunk));
    const rows = parser.end();

    expect(rows.count).toBe(rowCount);
    expect(rows.maxLabel).toBe(4);
    const { features, labels } = rows.storage();
    const blocks = Math.ceil(rowCount / blockRows);
    expect(features).toHaveLength(blocks);
    expect(labels).toHaveLength(blocks);
    for (const block of features) {
      expect(block).toBeInstanceOf(Float32Array);
      expect(block.length).toBe(blockRows * dim);
    }
    for (const block of labels) {
      expect(block).toBeInstanceOf(Float64Array);
      expect(block.length).toBe(blockRows);
    }
    const last = rowCount - 1;
    const lastRow = new Float32Array(dim);
    rows.copyFeatures(last, lastRow, 0);
    expect(Array.from(lastRow)).toEqual(Array.from({ length: dim }, (_, j) => ((last * 31 + j * 7) % 1000) / 8));
    expect(rows.label(last)).toBe(last % 5);
    expect(rows.featureRange(4090, 4100)).toBeInstanceOf(Float32Array);
    expect(rows.featureRange(4090, 4100)[6 * dim]).toBe(((4096 * 31) % 1000) / 8);
  });
});
