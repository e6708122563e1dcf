/**
 * The bad-input corpus, through the whole local pipeline: every fixture either runs (valid data) or fails at Prepare
 * with an error naming the object, row, column and what was expected — and the raw object is unchanged afterwards.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { s3ObjectCreatedEvent } from '../../local/cloud';
import { startCloud, useEmulators, withEmulators } from '../support/emulators';
import { expectNoResourcesLeft, getBytes, putRaw, ROOT, visitedStates } from '../support/localCloud';

const FIXTURES = path.join(ROOT, 'test/fixtures/csv');
const URI = (file: string) => `s3://knn-pipeline-local-data/raw/corpus/${file}`;

interface Case {
  file: string;
  label?: string;
  predictorType?: 'classifier' | 'regressor';
  /** A pattern the execution's cause must match, or undefined when the data is valid and the run completes. */
  error?: RegExp;
}

const cases: Case[] = [
  { file: 'valid.csv', label: 'Species' },
  { file: 'bom.csv', label: 'Species' },
  { file: 'crlf.csv', label: 'Species' },
  { file: 'trailing-blank-lines.csv', label: 'Species' },
  { file: 'quoted-commas.csv' },
  { file: 'whitespace.csv' },
  { file: 'numeric-labels.csv' },
  { file: 'singleton-class.csv' },
  { file: 'wide.csv' },
  { file: 'regression.csv', label: 'price', predictorType: 'regressor' },
  { file: 'empty.csv', error: /raw\/corpus\/empty\.csv: is empty/ },
  { file: 'header-only.csv', label: 'Species', error: /header-only\.csv: has a header but no data rows/ },
  { file: 'missing-label.csv', label: 'Species', error: /missing-label\.csv: .*"Species".*species/ },
  {
    file: 'duplicate-columns.csv',
    error: /duplicate-columns\.csv: row 1, column "x": the column name appears 2 times/,
  },
  { file: 'empty-header-cell.csv', error: /empty-header-cell\.csv: .*column 2/ },
  { file: 'empty-label.csv', error: /empty-label\.csv: row \d+, column "label"/ },
  { file: 'ragged.csv', error: /ragged\.csv: row 3: expected 3 fields \(one per header column\), got 2/ },
  { file: 'bad-numbers.csv', error: /bad-numbers\.csv: row 3, column "x": expected a finite number, got "abc"/ },
  { file: 'non-numeric-feature.csv', error: /row 4, column "y": expected a finite number, got "six"/ },
  { file: 'nan-feature.csv', error: /row 3, column "y": expected a finite number, got "NaN"/ },
  { file: 'infinity-feature.csv', error: /row 4, column "x": expected a finite number, got "Infinity"/ },
  { file: 'empty-feature.csv', error: /row 3, column "y": expected a finite number/ },
  { file: 'multiline-quoted.csv', error: /multiline-quoted\.csv: row \d+, column "/ },
  { file: 'single-class.csv', error: /single-class\.csv: .*at least two classes/ },
  { file: 'not-utf8.csv', error: /not-utf8\.csv: row \d+.*not valid UTF-8/ },
  { file: 'nul-bytes.csv', error: /nul-bytes\.csv: row 3: does not look like a CSV text file: it contains a NUL byte/ },
  { file: 'not-csv.png', error: /not-csv\.png: does not look like a CSV text file/ },
  { file: 'not-csv.csv.gz', error: /not-csv\.csv\.gz: does not look like a CSV text file/ },
  { file: 'json-not-csv.csv', error: /json-not-csv\.csv: / },
];

const local = useEmulators(() => startCloud({ s3Trigger: false }));

test.each(cases)('$file', async ({ file, label = 'label', predictorType = 'classifier', error }) => {
  const bytes = readFileSync(path.join(FIXTURES, file));
  const key = `raw/corpus/${file}`;
  await putRaw(key, bytes);

  const record = await local.cloud.startExecution({
    dataset: { key },
    labelColumn: label,
    predictorType,
    hyperparameters: { k: 1 },
    qualityGate:
      predictorType === 'classifier' ? { metric: 'accuracy', threshold: 0 } : { metric: 'r2', threshold: -1e9 },
  }).done;

  if (error) {
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('DatasetError');
    const message = JSON.parse(record.cause!).errorMessage as string;
    expect(message.startsWith(URI(file))).toBe(true);
    expect(message).toMatch(error);
    expect(visitedStates(record)).toEqual(['Prepare']);
  } else {
    expect({ status: record.status, error: record.error, cause: record.cause }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
  }
  expect((await getBytes(key)).equals(bytes)).toBe(true);
  await expectNoResourcesLeft(local.cloud, record);
});

test('a file too large for the stage is refused with a size error before it is read', async () => {
  await withEmulators(
    startCloud({ s3Trigger: false, params: { maxDatasetBytes: '2048' } }),
    async ({ cloud: small }) => {
      const bytes = Buffer.from(`x,y,label\n${'1.5,2.5,a\n3.5,4.5,b\n'.repeat(200)}`);
      await putRaw('raw/big.csv', bytes);
      const record = await small.startExecution({ dataset: { key: 'raw/big.csv' }, labelColumn: 'label' }).done;
      expect(record.status).toBe('FAILED');
      expect(record.error).toBe('DatasetTooLargeError');
      expect(record.cause).toContain(
        `raw/big.csv is ${bytes.length} bytes; this stage accepts at most 2048 bytes (MAX_DATASET_BYTES)`,
      );
      expect((await getBytes('raw/big.csv')).equals(bytes)).toBe(true);
    },
  );
});

describe('keys with spaces, "+" and unicode, as the S3 event delivers them', () => {
  const iris = readFileSync(path.join(ROOT, 'data/iris.csv'));
  test.each([
    ['raw key with a space', 'raw/my data.csv', 'raw/my data.csv'],
    ['raw key with a plus', 'raw/a+b.csv', 'raw/a+b.csv'],
    ['raw unicode key', 'raw/données été.csv', 'raw/données été.csv'],
    ['form-encoded key (classic S3 notification style)', 'raw/caf%C3%A9+au+lait%2B.csv', 'raw/café au lait+.csv'],
  ])('%s', async (_name, delivered, stored) => {
    await putRaw(stored, iris);
    const event = s3ObjectCreatedEvent({
      bucket: 'knn-pipeline-local-data',
      key: delivered,
      size: iris.length,
      etag: '"e"',
      sequencer: `${Date.now()}`,
    });
    const record = await local.cloud.startExecution(event).done;
    expect(record.status).toBe('SUCCEEDED');
    const prepared = record.history.find((e) => e.type === 'StateExited' && e.state?.name === 'Prepare')!.state!
      .output as { run: { dataset: { key: string } } };
    expect(prepared.run.dataset.key).toBe(stored);
    expect((await getBytes(stored)).equals(iris)).toBe(true);
  });
});
