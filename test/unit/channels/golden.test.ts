/**
 * The whole streaming data path — DatasetReader in writePreparedDataset, preparedRows, splitChannels and the
 * channel-set writer, through a local S3 — writes the very bytes the in-memory path wrote (test/fixtures/channels),
 * for every fixture, label column, predictor type and split setting recorded there, and fails with the same errors.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Split } from '../../../src/artifacts';
import { preparedRows, writePreparedDataset } from '../../../src/channels/prepared';
import { splitChannels } from '../../../src/channels/splitChannels';
import { writeChannelSet } from '../../../src/channels/writer';
import type { PredictorType } from '../../../src/domain/dataset';
import { foldSizes, splitSizes } from '../../../src/domain/split';
import { startS3, useEmulators, useLocalS3ForProductCode } from '../../support/emulators';

const ROOT = path.resolve(__dirname, '../../..');
const BUCKET = 'golden';

/** Folds per seed in the generator's settings (golden.json keeps the fold hashes under `folds`). */
const FOLDS_OF_SEED: Record<number, number> = { 0: 5, 42: 3, 7: 2 };

interface GoldenConfig {
  seed: number;
  testFraction: number;
  folds?: { train: string; test: string }[];
  train?: string;
  test?: string;
  splitError?: string;
  foldError?: string;
}
type GoldenEntry =
  | { error: string; message: string }
  | { rows: number; classes: string[] | null; warnings: string[]; configs: GoldenConfig[] };

const golden = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/channels/golden.json'), 'utf8')) as Record<
  string,
  GoldenEntry
>;

const local = useEmulators(() => startS3({ buckets: [BUCKET] }));
useLocalS3ForProductCode(local);

const sha = async (key: string) => {
  const response = await local.s3Client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return createHash('sha256')
    .update(await response.Body!.transformToByteArray())
    .digest('hex');
};

const cases = Object.entries(golden).map(([key, entry], index) => {
  const [file, labelColumn, predictorType] = key.split('|');
  return { name: `${file} · ${labelColumn} · ${predictorType}`, file, labelColumn, predictorType, entry, index };
});

test.each(cases)('$name', async ({ file, labelColumn, predictorType, entry, index }) => {
  const raw = { bucket: BUCKET, key: `raw/${index}.csv` };
  await local
    .s3Client()
    .send(new PutObjectCommand({ Bucket: BUCKET, Key: raw.key, Body: readFileSync(path.join(ROOT, file)) }));
  const prepared = {
    features: { bucket: BUCKET, key: `${index}/features.csv` },
    labels: { bucket: BUCKET, key: `${index}/labels.f64` },
  };
  const preparing = writePreparedDataset(raw, prepared, {
    source: `s3://b/${path.basename(file)}`,
    labelColumn,
    predictorType: predictorType as PredictorType,
  });
  if ('error' in entry) {
    await expect(preparing).rejects.toMatchObject({ name: entry.error, message: entry.message });
    return;
  }
  const summary = await preparing;
  expect({ rows: summary.rowCount, classes: summary.classes, warnings: summary.warnings }).toEqual({
    rows: entry.rows,
    classes: entry.classes,
    warnings: entry.warnings,
  });
  for (const config of entry.configs) {
    const root = `${index}/${config.seed}`;
    let split: Split;
    try {
      split = {
        seed: config.seed,
        testFraction: config.testFraction,
        rowCount: entry.rows,
        ...splitSizes(entry.rows, config.testFraction),
      };
    } catch (error) {
      expect((error as Error).message).toBe(config.splitError);
      continue;
    }
    let folds: Split['folds'];
    try {
      folds = foldSizes(entry.rows, FOLDS_OF_SEED[config.seed]);
    } catch (error) {
      expect((error as Error).message).toBe(config.foldError);
    }
    const foldKeys = (folds ?? []).map((_, f) => ({
      test: `${root}/f${f}/test.csv`,
      train: [`${root}/f${f}/train.csv`],
    }));
    await writeChannelSet(
      BUCKET,
      await preparedRows(prepared),
      splitChannels(
        { ...split, ...(folds ? { folds } : {}) },
        { test: `${root}/test.csv`, train: [`${root}/train.csv`], folds: foldKeys },
      ),
      // Small buckets, so the shuffle goes through temporary files even for these small files.
      { bucketBytes: 512 },
    );
    expect({ train: await sha(`${root}/train.csv`), test: await sha(`${root}/test.csv`) }).toEqual({
      train: config.train,
      test: config.test,
    });
    if (folds) {
      const written = await Promise.all(
        foldKeys.map(async (keys) => ({ train: await sha(keys.train[0]), test: await sha(keys.test) })),
      );
      expect(written).toEqual(config.folds);
    }
  }
});
