import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { shardBounds } from '../../../src/channels/plan';
import { writeChannelSet, type ChannelSource, type ChannelSpec } from '../../../src/channels/writer';
import { permutation } from '../../../src/domain/random';
import { startS3, useEmulators, useLocalS3ForProductCode } from '../../support/emulators';

const BUCKET = 'channels';
const local = useEmulators(() => startS3({ buckets: [BUCKET] }));

useLocalS3ForProductCode(local);

const rowText = (row: number) => `${row % 3},${row}.5,${(row * 7) % 11}`;

/** The rows in blocks of uneven size, as a stream would bring them. */
function source(rowCount: number, extraRows = 0): ChannelSource {
  async function* blocks() {
    let row = 0;
    for (let size = 1; row < rowCount + extraRows; size = ((size * 3) % 17) + 1) {
      let block = '';
      for (let k = 0; k < size && row < rowCount + extraRows; k++) block += `${rowText(row++)}\n`;
      yield Buffer.from(block);
    }
  }
  return { rowCount, blocks: blocks(), bytes: rowCount * 12 };
}

async function text(key: string): Promise<string> {
  const response = await local.s3Client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return response.Body!.transformToString();
}

async function keys(prefix: string): Promise<string[]> {
  const listed = await local.s3Client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key!);
}

const expected = (rows: Iterable<number>) => [...rows].map((row) => `${rowText(row)}\n`).join('');

describe.each([
  ['in memory', 1 << 30],
  ['through many temporary buckets', 200],
])('writeChannelSet %s', (_mode, bucketBytes) => {
  test('writes shuffled, sharded, overlapping and filtered channels in their own row order', async () => {
    const rowCount = 1000;
    const order = permutation(rowCount, 3);
    const prefix = `set-${bucketBytes}/`;
    const channels: ChannelSpec[] = [
      { name: 'test', keys: [`${prefix}test.csv`], rows: order.subarray(0, 250) },
      { name: 'train', keys: [1, 2, 3].map((s) => `${prefix}train-${s}.csv`), rows: order.subarray(250) },
      // A row may be in several channels, in another order.
      { name: 'again', keys: [`${prefix}again.csv`], rows: order.slice(100, 400).reverse() },
      { name: 'odd', keys: [`${prefix}odd-1.csv`, `${prefix}odd-2.csv`], rows: (row) => row % 2 === 1 },
    ];

    const temporaryDirectory = mkdtempSync(path.join(tmpdir(), 'writer-test-'));
    const written = await writeChannelSet(BUCKET, source(rowCount), channels, { bucketBytes, temporaryDirectory });
    // The buckets are gone once the channels are written.
    expect(readdirSync(temporaryDirectory)).toEqual([]);
    rmSync(temporaryDirectory, { recursive: true });

    expect(written.map(({ name, rows }) => ({ name, rows }))).toEqual([
      { name: 'test', rows: 250 },
      { name: 'train', rows: 750 },
      { name: 'again', rows: 300 },
      { name: 'odd', rows: 500 },
    ]);
    expect(await text(`${prefix}test.csv`)).toBe(expected(order.subarray(0, 250)));
    const bounds = shardBounds(750, 3);
    for (let s = 0; s < 3; s++) {
      expect(await text(`${prefix}train-${s + 1}.csv`)).toBe(
        expected(order.subarray(250 + bounds[s], 250 + bounds[s + 1])),
      );
    }
    expect(await text(`${prefix}again.csv`)).toBe(expected(order.slice(100, 400).reverse()));
    const odd = Array.from({ length: 500 }, (_, k) => 2 * k + 1);
    expect((await text(`${prefix}odd-1.csv`)) + (await text(`${prefix}odd-2.csv`))).toBe(expected(odd));
    expect(await text(`${prefix}odd-1.csv`)).toBe(expected(odd.slice(0, 250)));
    expect(written[1].bytes).toBe(Buffer.byteLength(expected(order.subarray(250))));
  });
});

test('a shard without rows is still written, as an empty object', async () => {
  const written = await writeChannelSet(BUCKET, source(2), [
    { name: 'train', keys: ['few/a.csv', 'few/b.csv', 'few/c.csv'], rows: Int32Array.from([1, 0]) },
  ]);
  expect(written[0].rows).toBe(2);
  expect(await keys('few/')).toEqual(['few/a.csv', 'few/b.csv', 'few/c.csv']);
  expect([await text('few/a.csv'), await text('few/b.csv'), await text('few/c.csv')]).toEqual([
    expected([1]),
    expected([0]),
    '',
  ]);
});

test('a source with more rows than announced fails and leaves no object behind', async () => {
  await expect(
    writeChannelSet(BUCKET, source(10, 1), [
      { name: 'all', keys: ['over/all.csv'], rows: (row) => row >= 0 },
      { name: 'shuffled', keys: ['over/shuffled.csv'], rows: permutation(10, 1) },
    ]),
  ).rejects.toThrow('the source has more than 10 rows');
  expect(await keys('over/')).toEqual([]);
});

test('a source with fewer rows than announced fails', async () => {
  await expect(
    writeChannelSet(BUCKET, source(10), [{ name: 'all', keys: ['under/all.csv'], rows: permutation(12, 1) }]),
  ).rejects.toThrow(/^channel all: row 1[01] is outside 0\.\.9$/);
  await expect(
    writeChannelSet(BUCKET, { ...source(10), rowCount: 12 }, [
      { name: 'all', keys: ['under/all.csv'], rows: (row) => row < 12 },
    ]),
  ).rejects.toThrow('the source has 10 rows, expected 12');
  expect(await keys('under/')).toEqual([]);
});

test('a block that ends inside a row is refused', async () => {
  async function* blocks() {
    yield Buffer.from('1,2\n3,');
  }
  await expect(
    writeChannelSet(BUCKET, { rowCount: 2, blocks: blocks(), bytes: 6 }, [
      { name: 'all', keys: ['cut/all.csv'], rows: (row) => row >= 0 },
    ]),
  ).rejects.toThrow('row 2 of the source does not end with a line break');
  expect(await keys('cut/')).toEqual([]);
});
