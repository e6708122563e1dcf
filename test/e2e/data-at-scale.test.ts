/**
 * The data path at scale, in Lambda's own terms: Prepare, Split and Upload run isolated, as the local cloud runs every
 * function, with their heap capped at 256 MB (memorySize 284: Lambda's Node.js gives the old space memory − memory/10),
 * on a 1,000,000-row × 16-feature CSV (~100 MB). Before streaming, Prepare held every row as JS values and died there.
 */
import type { Manifest, Split } from '../../src/artifacts';
import type { PrepareResult } from '../../functions/prepare';
import type { UploadResult } from '../../functions/upload';
import { startCloud, withEmulators } from '../support/emulators';
import { getBytes, putRaw } from '../support/localCloud';

const ROWS = 1_000_000;
const FEATURES = 16;
/** Lambda memory whose old-space limit is 256 MB (284 − 28). */
const MEMORY_FOR_256_MB_HEAP = 284;

/** A seeded CSV: 16 features with up to 4 decimals, 5 classes; built as bytes, not as rows. */
function bigCsv(rows: number): Buffer {
  const header = `${Array.from({ length: FEATURES }, (_, j) => `f${j}`).join(',')},label\n`;
  const parts: Buffer[] = [Buffer.from(header)];
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  for (let start = 0; start < rows; start += 50_000) {
    let text = '';
    for (let row = start; row < Math.min(rows, start + 50_000); row++) {
      for (let j = 0; j < FEATURES; j++) text += `${(next() % 100_000) / 10_000},`;
      text += `c${next() % 5}\n`;
    }
    parts.push(Buffer.from(text));
  }
  return Buffer.concat(parts);
}

test('Prepare, Split and Upload handle 1,000,000 rows within a 256 MB heap each', async () => {
  const limits = { memorySize: MEMORY_FOR_256_MB_HEAP };
  await withEmulators(
    startCloud({ s3Trigger: false, functionLimits: { prepare: limits, split: limits, upload: limits } }),
    async ({ cloud }) => {
      const csv = bigCsv(ROWS);
      await putRaw('raw/big.csv', csv);
      const lambda = cloud.lambda!;
      expect(lambda.functions.prepare.memorySize).toBe(MEMORY_FOR_256_MB_HEAP);

      const prepared = (await lambda.invoke('prepare', {
        input: { dataset: { key: 'raw/big.csv' }, labelColumn: 'label' },
        execution: { name: 'scale-1m' },
      })) as PrepareResult;
      if (prepared.duplicate) throw new Error('unexpected duplicate');
      expect(prepared.dataset).toEqual({ rows: ROWS, features: FEATURES, classes: ['c0', 'c1', 'c2', 'c3', 'c4'] });
      const { run } = prepared;
      await lambda.invoke('split', { run });
      const uploaded = (await lambda.invoke('upload', { run })) as UploadResult;

      const split = JSON.parse((await getBytes(run.keys.split)).toString()) as Split;
      expect(split).toMatchObject({ rowCount: ROWS, testRows: 250_000, trainRows: 750_000 });
      expect(uploaded).toMatchObject({ trainRows: 750_000, testRows: 250_000 });
      const manifest = JSON.parse((await getBytes(run.keys.manifest)).toString()) as Manifest;
      expect(Object.values(manifest.classCounts!).reduce((a, b) => a + b, 0)).toBe(ROWS);
      // Every byte of the data is in the channels once: the raw file less its header and label texts ("c3" → "3").
      const [train, test] = await Promise.all([getBytes(run.keys.trainChannel), getBytes(run.keys.testChannel)]);
      expect(train.length + test.length).toBe(csv.length - csv.indexOf('\n') - 1 - ROWS);
      expect(test.subarray(0, test.indexOf('\n')).toString()).toMatch(/^[0-4](,\d(\.\d{1,4})?){16}$/);
    },
  );
}, 300_000);
