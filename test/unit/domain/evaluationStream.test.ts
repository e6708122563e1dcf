/**
 * Evaluate's streaming path (src/domain/evaluation.ts, src/domain/metrics.ts): the test channel read in chunks and
 * request-sized batches, scored a bounded number at a time in row order, the metrics accumulated batch by batch and
 * predictions.csv written as a stream — each equal to the whole-array computation it replaces.
 */
import {
  ENDPOINT_BATCH_LIMITS,
  MAX_CONCURRENT_INVOCATIONS,
  SERVERLESS_BATCH_LIMITS,
  computeMetrics,
  evaluateBatches,
  invocationPlan,
  lineGroups,
  parsePredictionLine,
  parseTestChannel,
  planBatches,
  predictionsCsv,
  scoreBatches,
  testBatches,
  transformOutputBatches,
  type ScoredBatch,
  type TestBatch,
} from '../../../src/domain/evaluation';
import {
  ClassificationAccumulator,
  classificationMetrics,
  float32Repr,
  RegressionAccumulator,
  regressionMetrics,
} from '../../../src/domain/metrics';
import { mapOrdered, retrying } from '../../../src/domain/concurrency';
import { MersenneTwister } from '../../../src/domain/random';
import { wholeClassificationMetrics, wholeRegressionMetrics } from './support/wholeArrayMetrics';

const rng = new MersenneTwister(13);
const uniform = () => rng.nextUint32() / 2 ** 32;
const int = (max: number) => rng.nextIntInclusive(max - 1);

/** The bytes of `text` cut into pieces of random sizes (1 byte up to `max`), as S3 may deliver them. */
async function* chunked(text: string | Uint8Array, max = 64): AsyncGenerator<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  for (let start = 0; start < bytes.length;) {
    const size = 1 + int(max);
    yield bytes.subarray(start, start + size);
    start += size;
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A label-first channel: `rows` rows of `features` numbers each, some with CRLF, a blank line, unicode-free. */
function channel(rows: number, features: number, classes = 3): string {
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const values = Array.from({ length: features }, () => (uniform() * 20 - 10).toFixed(int(6)));
    lines.push(`${int(classes)},${values.join(',')}${r % 7 === 3 ? '\r' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('reading the test channel as a stream', () => {
  test('lineGroups splits any chunking like the whole text, multi-byte characters and CRLF across chunks included', async () => {
    const text = 'a,é,😀\r\nb,ß\n\nlast line without newline ✓\r';
    for (let attempt = 0; attempt < 50; attempt++) {
      const lines = (await collect(lineGroups(chunked(text, 5)))).flat();
      expect(lines).toEqual(['a,é,😀', 'b,ß', '', 'last line without newline ✓']);
    }
    expect((await collect(lineGroups(chunked('x\n')))).flat()).toEqual(['x']);
    expect(await collect(lineGroups(chunked('')))).toEqual([]);
  });

  test('testBatches gives the labels, feature text and request bodies of parseTestChannel + planBatches', async () => {
    for (const [rows, features, maxBytes, maxRows] of [
      [500, 4, 4096, 100_000],
      [2_000, 16, 1 << 15, 37],
      [300, 1, 64, 1_000],
      [1, 3, 1 << 20, 10],
    ]) {
      const text = channel(rows, features);
      const whole = parseTestChannel(text, 's3://b/t.csv');
      const planned = planBatches(whole.featureLines, maxBytes, maxRows);
      const streamed = await collect(testBatches(chunked(text, 200), 's3://b/t.csv', { maxBytes, maxRows }));
      expect(streamed.map((b) => b.body)).toEqual(planned.map((b) => b.body));
      expect(streamed.map((b) => [b.firstRow, b.rowCount])).toEqual(planned.map((b) => [b.firstRow, b.rowCount]));
      expect(streamed.flatMap((b) => [...b.labels])).toEqual(whole.labels);
      expect(streamed.flatMap((b) => b.featureLines)).toEqual(whole.featureLines);
    }
  });

  test('every batch stays within its limits: 5 MiB for an endpoint, under 4 MB for a serverless endpoint', async () => {
    const text = channel(40_000, 16);
    for (const limits of [ENDPOINT_BATCH_LIMITS, SERVERLESS_BATCH_LIMITS, { maxBytes: 100_000, maxRows: 1_000 }]) {
      const batches = await collect(testBatches(chunked(text, 1 << 16), 't', limits));
      expect(batches.length).toBeGreaterThan(limits === ENDPOINT_BATCH_LIMITS ? 0 : 1);
      for (const batch of batches) {
        expect(Buffer.byteLength(batch.body)).toBeLessThanOrEqual(limits.maxBytes);
        expect(batch.rowCount).toBeLessThanOrEqual(limits.maxRows);
      }
      expect(batches.reduce((n, b) => n + b.rowCount, 0)).toBe(40_000);
    }
    expect(ENDPOINT_BATCH_LIMITS.maxBytes).toBe(5 * 1024 * 1024);
    expect(SERVERLESS_BATCH_LIMITS.maxBytes).toBeLessThan(4_000_000);
    // Replies (about 30 bytes a prediction) fit the same limits.
    expect(SERVERLESS_BATCH_LIMITS.maxRows * 40).toBeLessThanOrEqual(SERVERLESS_BATCH_LIMITS.maxBytes);
    expect(ENDPOINT_BATCH_LIMITS.maxRows * 40).toBeLessThanOrEqual(6 * 1024 * 1024);
  });

  test('the same errors as parseTestChannel, naming the source and row; a row above the limit is refused', async () => {
    const read = (text: string, maxBytes = 1 << 20) =>
      collect(testBatches(chunked(text, 3), 's3://b/t.csv', { maxBytes, maxRows: 1000 }));
    await expect(read('1,2,3\n0,1\n')).rejects.toThrow(
      's3://b/t.csv: row 2: expected 2 features like the first row, got 1',
    );
    await expect(read('x,1,2\n')).rejects.toThrow('s3://b/t.csv: row 1: expected a numeric label');
    await expect(read('0,1\n\n1,123456789\n', 8)).rejects.toThrow(
      's3://b/t.csv: row 3 is 10 bytes, above the 8-byte request limit',
    );
    await expect(read('0,1\n\n1,123456789\n', 8)).rejects.toMatchObject({ name: 'EvaluationError' });
  });

  test('invocation plans: 4 requests of 5 MiB at a time for an endpoint; a serverless endpoint’s own limits', () => {
    expect(invocationPlan({ mode: 'endpoint' })).toEqual({ limits: ENDPOINT_BATCH_LIMITS, concurrency: 4 });
    expect(invocationPlan({ mode: 'serverless', serverless: { memorySizeInMB: 2048, maxConcurrency: 2 } })).toEqual({
      limits: SERVERLESS_BATCH_LIMITS,
      concurrency: 2,
    });
    expect(
      invocationPlan({ mode: 'serverless', serverless: { memorySizeInMB: 2048, maxConcurrency: 50 } }).concurrency,
    ).toBe(MAX_CONCURRENT_INVOCATIONS);
  });
});

describe('bounded concurrency in row order', () => {
  test('mapOrdered keeps the order, never runs more than the limit, and reads ahead no further than it', async () => {
    let running = 0;
    let peak = 0;
    let read = 0;
    let consumed = 0;
    let maxAhead = 0;
    async function* items() {
      for (let i = 0; i < 60; i++) {
        read += 1;
        maxAhead = Math.max(maxAhead, read - consumed);
        yield i;
      }
    }
    const results: number[] = [];
    for await (const value of mapOrdered(items(), 4, async (i) => {
      running += 1;
      peak = Math.max(peak, running);
      // Later items often finish first.
      for (let spin = int(5); spin > 0; spin--) await Promise.resolve();
      running -= 1;
      return i * 2;
    })) {
      consumed += 1;
      results.push(value);
    }
    expect(results).toEqual(Array.from({ length: 60 }, (_, i) => i * 2));
    expect(peak).toBeLessThanOrEqual(4);
    expect(maxAhead).toBeLessThanOrEqual(4);
  });

  test('a failure ends the pass with that error; the others in flight never go unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      async function* items() {
        for (let i = 0; i < 10; i++) yield i;
      }
      const pass = collect(
        mapOrdered(items(), 4, async (i) => {
          await Promise.resolve();
          if (i >= 2) throw new Error(`item ${i} failed`);
          return i;
        }),
      );
      await expect(pass).rejects.toThrow('item 2 failed');
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('scoreBatches passes each batch to the scorer and keeps the rows with their predictions', async () => {
    const text = channel(1000, 2);
    const scored = await collect(
      scoreBatches(testBatches(chunked(text), 't', { maxBytes: 2000, maxRows: 500 }), 3, async (batch: TestBatch) =>
        Array.from(batch.labels, (label) => (label + 1) % 3),
      ),
    );
    expect(scored.map((b) => b.firstRow)).toEqual(
      scored.map((_, i) => scored.slice(0, i).reduce((n, b) => n + b.labels.length, 0)),
    );
    for (const batch of scored)
      expect(Array.from(batch.predicted)).toEqual(Array.from(batch.labels, (l) => (l + 1) % 3));
  });

  test('retrying: again after each delay while the error is retryable, then the last error', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    let calls = 0;
    const notReady = () => Object.assign(new Error('not ready'), { name: 'ModelNotReadyException' });
    const isNotReady = (e: unknown) => (e as Error).name === 'ModelNotReadyException';
    await expect(
      retrying(async () => (++calls < 3 ? Promise.reject(notReady()) : 'ok'), isNotReady, [10, 20, 40], sleep),
    ).resolves.toBe('ok');
    expect(slept).toEqual([10, 20]);
    await expect(retrying(() => Promise.reject(notReady()), isNotReady, [1, 1], sleep)).rejects.toThrow('not ready');
    calls = 0;
    await expect(
      retrying(async () => (++calls, Promise.reject(new Error('ModelError'))), isNotReady, [1, 1], sleep),
    ).rejects.toThrow('ModelError');
    expect(calls).toBe(1);
  });
});

describe('incremental metrics equal the whole-array computation, to the last bit', () => {
  /** `values` cut into consecutive batches of random sizes. */
  function batchesOf(n: number): [number, number][] {
    const bounds: [number, number][] = [];
    for (let start = 0; start < n;) {
      const size = 1 + int(Math.max(1, n >> 2));
      bounds.push([start, Math.min(n, start + size)]);
      start += size;
    }
    return bounds;
  }

  test('classifier: random labels and predictions, any batching, known or inferred class count', () => {
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + int(400);
      const classes = 1 + int(7);
      const truth = Float64Array.from({ length: n }, () => int(classes));
      // Mostly right, some wrong, some out of range or not integers (counted wrong, no matrix column).
      const predicted = Float64Array.from(truth, (t) => {
        const r = uniform();
        return r < 0.7 ? t : r < 0.9 ? int(classes) : r < 0.95 ? classes + int(3) : t + 0.5;
      });
      for (const classCount of [classes + 3, undefined]) {
        const accumulator = new ClassificationAccumulator(classCount);
        for (const [a, b] of batchesOf(n)) accumulator.add(truth.subarray(a, b), predicted.subarray(a, b));
        const expected = wholeClassificationMetrics(truth, predicted, classCount);
        expect(accumulator.result()).toEqual(expected);
        expect(classificationMetrics(truth, predicted, classCount)).toEqual(expected);
      }
    }
  });

  test('regressor: random values, any batching, the same bits for mse, rmse, mae and r2', () => {
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + int(500);
      const truth = Float64Array.from({ length: n }, () => (uniform() - 0.5) * 10 ** int(6));
      const predicted = Float64Array.from(truth, (t) => t + (uniform() - 0.5) * 10 ** int(4));
      const accumulator = new RegressionAccumulator();
      for (const [a, b] of batchesOf(n)) accumulator.add(truth.subarray(a, b), predicted.subarray(a, b));
      const expected = wholeRegressionMetrics(truth, predicted);
      const actual = accumulator.result();
      expect(actual).toEqual(expected);
      for (const key of ['mse', 'rmse', 'mae', 'r2'] as const) expect(Object.is(actual[key], expected[key])).toBe(true);
      expect(regressionMetrics(truth, predicted)).toEqual(expected);
    }
  });

  test('the Iris reference result: accuracy 0.9736842105263158, macro F1 0.97170347 as float32', () => {
    // Confusion matrix [[13,0,0],[0,15,1],[0,0,9]]: one versicolor predicted virginica.
    const truth = [...Array(13).fill(0), ...Array(16).fill(1), ...Array(9).fill(2)];
    const predicted = [...Array(13).fill(0), ...Array(15).fill(1), 2, ...Array(9).fill(2)];
    const accumulator = new ClassificationAccumulator(3);
    for (const [a, b] of [
      [0, 5],
      [5, 6],
      [6, 30],
      [30, 38],
    ])
      accumulator.add(truth.slice(a, b), predicted.slice(a, b));
    const metrics = accumulator.result();
    expect(metrics.accuracy).toBe(0.9736842105263158);
    expect(float32Repr(metrics.macroF1)).toBe('0.97170347');
    expect(metrics.confusionMatrix).toEqual([
      [13, 0, 0],
      [0, 15, 1],
      [0, 0, 9],
    ]);
  });

  test('errors as before: an empty set, a true label outside the classes (its row counted across batches)', () => {
    expect(() => new ClassificationAccumulator(2).result()).toThrow('cannot score an empty set of predictions');
    expect(() => new RegressionAccumulator().result()).toThrow('cannot score an empty set of predictions');
    const accumulator = new ClassificationAccumulator(2);
    accumulator.add([0, 1], [0, 1]);
    expect(() => accumulator.add([1, 2], [1, 1])).toThrow('yTrue[3] = 2 is not a class index in [0, 2)');
    expect(() => new RegressionAccumulator().add([1], [1, 2])).toThrow('yTrue has 1 values but yPred has 2');
  });
});

describe('one pass: metrics and predictions.csv as a stream', () => {
  async function streamed(
    predictorType: 'classifier' | 'regressor',
    text: string,
    predict: (labels: Float64Array) => number[],
    classes: string[] | null,
  ) {
    const written: string[] = [];
    const pass = await evaluateBatches(
      scoreBatches(testBatches(chunked(text, 300), 't', { maxBytes: 3000, maxRows: 64 }), 4, async (batch) =>
        predict(batch.labels),
      ),
      {
        predictorType,
        classes,
        featureNames: ['a', 'b', 'c'],
        write: async (chunk) => {
          await Promise.resolve();
          written.push(chunk);
        },
      },
    );
    return { pass, written };
  }

  test('classifier: the metrics and the exact bytes of predictionsCsv and computeMetrics over the whole arrays', async () => {
    const text = channel(1500, 3, 3);
    const whole = parseTestChannel(text, 't');
    const predict = (labels: ArrayLike<number>) => Array.from(labels, (l, i) => (i % 5 === 0 ? (l + 1) % 4 : l));
    const classes = ['setosa', 'versicolor, "quoted"', 'virginica'];
    const { pass, written } = await streamed('classifier', text, predict, classes);
    // The predictions as the batches made them (row index within a batch decides the rule above).
    const scored = await collect(
      scoreBatches(testBatches(chunked(text), 't', { maxBytes: 3000, maxRows: 64 }), 1, async (b) => predict(b.labels)),
    );
    const all = scored.flatMap((b: ScoredBatch) => Array.from(b.predicted));
    expect(pass.rows).toBe(1500);
    expect(pass.batches).toBe(scored.length);
    expect(pass.metrics).toEqual(computeMetrics('classifier', whole.labels, all, classes));
    expect(written.join('')).toBe(
      predictionsCsv('classifier', ['a', 'b', 'c'], whole.featureLines, whole.labels, all, classes),
    );
    expect(written.length).toBe(scored.length + 1);
  });

  test('regressor: the same, with the errors column', async () => {
    const text = channel(700, 3, 1000);
    const whole = parseTestChannel(text, 't');
    const predict = (labels: ArrayLike<number>) => Array.from(labels, (l) => l * 1.5 - 2);
    const { pass, written } = await streamed('regressor', text, predict, null);
    const all = whole.labels.map((l) => l * 1.5 - 2);
    expect(pass.metrics).toEqual(computeMetrics('regressor', whole.labels, all, null));
    expect(written.join('')).toBe(
      predictionsCsv('regressor', ['a', 'b', 'c'], whole.featureLines, whole.labels, all, null),
    );
  });

  test('no write, no predictions.csv (the champion’s pass): metrics only', async () => {
    const text = channel(50, 3);
    const pass = await evaluateBatches(
      scoreBatches(testBatches(chunked(text), 't', ENDPOINT_BATCH_LIMITS), 4, async (b) => Array.from(b.labels)),
      { predictorType: 'classifier', classes: ['a', 'b', 'c'], featureNames: [] },
    );
    expect(pass).toMatchObject({ rows: 50, batches: 1, metrics: { accuracy: 1 } });
  });
});

describe('batch transform output read in lockstep with the test channel', () => {
  const text = channel(2000, 4);
  const whole = parseTestChannel(text, 't');
  const jsonLines = (labels: number[]) => labels.map((l) => `{"predicted_label": ${l.toFixed(1)}}\n`).join('');
  const sources = { test: 's3://b/runs/r/input/test/test.csv', output: 's3://b/runs/r/output/transform/test.csv.out' };
  const read = (output: string, limits = { maxBytes: 4096, maxRows: 300 }) =>
    collect(transformOutputBatches(chunked(text, 500), chunked(output, 77), sources, limits));

  test('prediction i belongs to row i; the metrics and predictions.csv equal the whole-array ones', async () => {
    const predicted = whole.labels.map((l, i) => (i % 9 === 0 ? (l + 1) % 3 : l));
    const batches = await read(jsonLines(predicted));
    expect(batches.flatMap((b) => Array.from(b.predicted))).toEqual(predicted);
    expect(batches.flatMap((b) => Array.from(b.labels))).toEqual(whole.labels);
    const written: string[] = [];
    const pass = await evaluateBatches(transformOutputBatches(chunked(text), chunked(jsonLines(predicted)), sources), {
      predictorType: 'classifier',
      classes: ['x', 'y', 'z'],
      featureNames: ['f1', 'f2', 'f3', 'f4'],
      write: async (chunk) => void written.push(chunk),
    });
    expect(pass.metrics).toEqual(computeMetrics('classifier', whole.labels, predicted, ['x', 'y', 'z']));
    expect(written.join('')).toBe(
      predictionsCsv('classifier', ['f1', 'f2', 'f3', 'f4'], whole.featureLines, whole.labels, predicted, [
        'x',
        'y',
        'z',
      ]),
    );
  });

  test('blank lines between assembled records and CRLF are tolerated', async () => {
    const output = jsonLines(whole.labels).replace(/\n/g, (_, offset: number) => (offset % 3 ? '\r\n' : '\n\n'));
    expect((await read(output)).flatMap((b) => Array.from(b.predicted))).toEqual(whole.labels);
  });

  test('fewer or more predictions than rows, or a line that is not a prediction, fail naming the objects', async () => {
    await expect(read(jsonLines(whole.labels.slice(1)))).rejects.toThrow(
      `${sources.output} has 1999 predictions but ${sources.test} has at least 2000 rows`,
    );
    await expect(read(jsonLines([...whole.labels, 1]))).rejects.toThrow(
      `${sources.output} has more predictions than the 2000 rows of ${sources.test}`,
    );
    const bad = jsonLines(whole.labels).split('\n');
    bad[1234] = '{"label": 1}';
    await expect(read(bad.join('\n'))).rejects.toThrow(
      `${sources.output}: prediction 1235 has no numeric predicted_label`,
    );
    bad[1234] = 'oops';
    await expect(read(bad.join('\n'))).rejects.toMatchObject({
      name: 'EvaluationError',
      message: `${sources.output}: prediction 1235 is not JSON: oops`,
    });
  });

  test('parsePredictionLine reads k-NN JSON Lines', () => {
    expect(parsePredictionLine('{"predicted_label": 2.0}', 1, 'o')).toBe(2);
    expect(parsePredictionLine('{"predicted_label":-0.5,"labels":[1]}', 1, 'o')).toBe(-0.5);
    expect(() => parsePredictionLine('null', 7, 'o')).toThrow('o: prediction 7 has no numeric predicted_label');
  });
});
