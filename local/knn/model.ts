/**
 * The trained model and its `model.tar.gz` (reference A.3): the same three members as the real artifact.
 *
 * - `model_algo-1`: the index. The real one is a serialized FAISS index; this local format is a 24-byte header
 *   (magic "KNNLOCAL", then little-endian uint32 format version, stored dimension, point count, metric code)
 *   followed by the stored points as little-endian float32, row-major, exactly as trained (not normalised).
 *   Like a FAISS index, this file decides the metric and the stored points.
 * - `model_algo-1.labels`: one little-endian float32 label per stored point (raw np.float32 binary on AWS too).
 * - `model_algo-1.json`: metadata. `k` and `predictor_type` are read from here at load time, so editing them changes
 *   inference without retraining, as with the real artifact. Also kept: `feature_dim`, `count`, `index_metric`,
 *   `index_type`, `dimension_reduction` (as on AWS: type, seed, target_dim, input_dim) and the training
 *   `hyperparameters` (strings, as SageMaker received them).
 */

import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import * as tar from 'tar-stream';
import type { SignProjection } from './dimensionReduction';
import { ModelArtifactError } from './errors';
import {
  type IndexMetric,
  type KnnHyperparameters,
  type PredictorType,
  formatHyperparameters,
  INDEX_METRICS,
  INDEX_TYPES,
  parseHyperparameters,
  PREDICTOR_TYPES,
} from './hyperparameters';

export { ModelArtifactError } from './errors';

export interface KnnModel {
  /** The training configuration; `k` and `predictorType` here may differ from the top-level ones after a json edit. */
  hyperparameters: KnnHyperparameters;
  /** feature_dim: the width of a training row (without label) and of an inference query. */
  dim: number;
  metric: IndexMetric;
  predictorType: PredictorType;
  /** Neighbours consulted per prediction. */
  k: number;
  /** count × indexDim(model) float32 values, row-major, as sampled (and projected, with dimension reduction). */
  points: Float32Array;
  labels: Float32Array;
  count: number;
  /** Present when trained with dimension_reduction_type=sign: queries are projected the same way before search. */
  dimensionReduction?: SignProjection;
}

export const INDEX_MEMBER = 'model_algo-1';
export const LABELS_MEMBER = 'model_algo-1.labels';
export const METADATA_MEMBER = 'model_algo-1.json';

const INDEX_MAGIC = 'KNNLOCAL';
const INDEX_FORMAT_VERSION = 1;
const INDEX_HEADER_BYTES = 24;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The width of a stored point: the projection target with dimension reduction, else feature_dim. */
export function indexDim(model: Pick<KnnModel, 'dim' | 'dimensionReduction'>): number {
  return model.dimensionReduction?.targetDim ?? model.dim;
}

export async function packModelArtifact(model: KnnModel, options: { mtime?: Date } = {}): Promise<Buffer> {
  const storedDim = indexDim(model);
  if (model.points.length !== model.count * storedDim) {
    throw new RangeError(`model has ${model.points.length} point values, expected ${model.count} × ${storedDim}`);
  }
  if (model.labels.length !== model.count) {
    throw new RangeError(`model has ${model.labels.length} labels, expected ${model.count}`);
  }

  const index = Buffer.alloc(INDEX_HEADER_BYTES + model.points.length * 4);
  index.write(INDEX_MAGIC, 0, 'ascii');
  index.writeUInt32LE(INDEX_FORMAT_VERSION, 8);
  index.writeUInt32LE(storedDim, 12);
  index.writeUInt32LE(model.count, 16);
  index.writeUInt32LE(INDEX_METRICS.indexOf(model.metric), 20);
  writeFloat32LE(model.points, index, INDEX_HEADER_BYTES);

  const labels = Buffer.alloc(model.labels.length * 4);
  writeFloat32LE(model.labels, labels, 0);

  const metadata: Record<string, unknown> = {
    k: model.k,
    predictor_type: model.predictorType,
    index_metric: model.metric,
    index_type: model.hyperparameters.indexType,
    feature_dim: model.dim,
    count: model.count,
    normalize: false,
    version: '1.0',
  };
  if (model.dimensionReduction) {
    const { type, seed, targetDim, inputDim } = model.dimensionReduction;
    metadata.dimension_reduction = { type, seed, target_dim: targetDim, input_dim: inputDim };
  }
  metadata.hyperparameters = formatHyperparameters(model.hyperparameters);

  const mtime = options.mtime ?? new Date();
  const pack = tar.pack();
  const members: [string, Buffer][] = [
    [INDEX_MEMBER, index],
    [LABELS_MEMBER, labels],
    [METADATA_MEMBER, Buffer.from(JSON.stringify(metadata), 'utf8')],
  ];
  for (const [name, content] of members) pack.entry({ name, size: content.length, mode: 0o644, mtime }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipAsync(Buffer.concat(chunks));
}

export async function unpackModelArtifact(artifact: Buffer): Promise<KnnModel> {
  let tarBytes: Buffer;
  try {
    tarBytes = await gunzipAsync(artifact);
  } catch (error) {
    throw new ModelArtifactError(`model artifact is not a gzip-compressed tar (${(error as Error).message})`, {
      cause: error,
    });
  }
  const members = await readTarMembers(tarBytes);
  const member = (name: string): Buffer => {
    const content = members.get(name);
    if (!content)
      throw new ModelArtifactError(
        `model artifact has no ${name} (members: ${[...members.keys()].join(', ') || 'none'})`,
      );
    return content;
  };

  const metadata = parseMetadata(member(METADATA_MEMBER));
  const index = member(INDEX_MEMBER);
  if (index.length < INDEX_HEADER_BYTES || index.toString('ascii', 0, 8) !== INDEX_MAGIC) {
    throw new ModelArtifactError(`${INDEX_MEMBER} is not a local k-NN index (no ${INDEX_MAGIC} header)`);
  }
  const version = index.readUInt32LE(8);
  if (version !== INDEX_FORMAT_VERSION) {
    throw new ModelArtifactError(
      `${INDEX_MEMBER} has format version ${version}; this reader knows ${INDEX_FORMAT_VERSION}`,
    );
  }
  const storedDim = index.readUInt32LE(12);
  const count = index.readUInt32LE(16);
  const metric = INDEX_METRICS[index.readUInt32LE(20)];
  if (!metric || storedDim === 0) throw new ModelArtifactError(`${INDEX_MEMBER} has a corrupt header`);
  const expectedIndexBytes = INDEX_HEADER_BYTES + count * storedDim * 4;
  if (index.length !== expectedIndexBytes) {
    throw new ModelArtifactError(
      `${INDEX_MEMBER} is ${index.length} bytes but its header (${count} points × ${storedDim} dimensions) needs ${expectedIndexBytes}`,
    );
  }
  const labelBytes = member(LABELS_MEMBER);
  if (labelBytes.length !== count * 4) {
    throw new ModelArtifactError(
      `${LABELS_MEMBER} is ${labelBytes.length} bytes but ${count} float32 labels need ${count * 4}`,
    );
  }
  if (metadata.count !== undefined && metadata.count !== count) {
    throw new ModelArtifactError(
      `${METADATA_MEMBER} says count ${metadata.count} but ${INDEX_MEMBER} holds ${count} points`,
    );
  }
  const expectedStoredDim = metadata.dimensionReduction?.targetDim ?? metadata.featureDim;
  if (expectedStoredDim !== storedDim) {
    throw new ModelArtifactError(
      `${METADATA_MEMBER} implies stored dimension ${expectedStoredDim} but ${INDEX_MEMBER} stores ${storedDim}`,
    );
  }

  const hyperparameters: KnnHyperparameters = {
    ...(metadata.hyperparameters ?? {
      featureDim: metadata.featureDim,
      sampleSize: count,
      indexType: metadata.indexType,
      indexMetric: metric,
      miniBatchSize: 5000,
    }),
    k: metadata.k,
    predictorType: metadata.predictorType,
  };
  const model: KnnModel = {
    hyperparameters,
    dim: metadata.featureDim,
    metric,
    predictorType: metadata.predictorType,
    k: metadata.k,
    points: readFloat32LE(index, INDEX_HEADER_BYTES, count * storedDim),
    labels: readFloat32LE(labelBytes, 0, count),
    count,
  };
  if (metadata.dimensionReduction) model.dimensionReduction = metadata.dimensionReduction;
  return model;
}

interface ArtifactMetadata {
  k: number;
  predictorType: PredictorType;
  featureDim: number;
  count?: number;
  indexType: KnnHyperparameters['indexType'];
  dimensionReduction?: SignProjection;
  hyperparameters?: KnnHyperparameters;
}

function parseMetadata(bytes: Buffer): ArtifactMetadata {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ModelArtifactError(`${METADATA_MEMBER} is not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelArtifactError(`${METADATA_MEMBER} must hold a JSON object`);
  }
  const fields = json as Record<string, unknown>;
  const positiveInteger = (name: string): number => {
    const value = fields[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new ModelArtifactError(
        `${METADATA_MEMBER}: "${name}" must be an integer greater than 0, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  const k = positiveInteger('k');
  const predictorType = fields.predictor_type;
  if (!PREDICTOR_TYPES.includes(predictorType as PredictorType)) {
    throw new ModelArtifactError(
      `${METADATA_MEMBER}: "predictor_type" must be "classifier" or "regressor", got ${JSON.stringify(predictorType)}`,
    );
  }
  const featureDim = positiveInteger('feature_dim');
  const metadata: ArtifactMetadata = {
    k,
    predictorType: predictorType as PredictorType,
    featureDim,
    indexType: INDEX_TYPES.includes(fields.index_type as KnnHyperparameters['indexType'])
      ? (fields.index_type as KnnHyperparameters['indexType'])
      : 'faiss.Flat',
  };
  if (fields.count !== undefined) metadata.count = positiveIntegerOrZero(fields.count, 'count');

  const reduction = fields.dimension_reduction;
  if (reduction !== undefined && reduction !== null) {
    const r = reduction as Record<string, unknown>;
    if (r.type !== 'sign') {
      throw new ModelArtifactError(
        `${METADATA_MEMBER}: dimension_reduction type ${JSON.stringify(r.type)} is not supported locally (only "sign")`,
      );
    }
    metadata.dimensionReduction = {
      type: 'sign',
      seed: positiveIntegerOrZero(r.seed, 'dimension_reduction.seed'),
      targetDim: positiveIntegerOrZero(r.target_dim, 'dimension_reduction.target_dim'),
      inputDim: positiveIntegerOrZero(r.input_dim, 'dimension_reduction.input_dim'),
    };
    if (metadata.dimensionReduction.inputDim !== featureDim) {
      throw new ModelArtifactError(
        `${METADATA_MEMBER}: dimension_reduction.input_dim differs from feature_dim ${featureDim}`,
      );
    }
  }

  if (fields.hyperparameters !== undefined) {
    try {
      metadata.hyperparameters = parseHyperparameters(fields.hyperparameters as Record<string, string>);
    } catch (error) {
      throw new ModelArtifactError(
        `${METADATA_MEMBER}: stored hyperparameters are invalid (${(error as Error).message})`,
        { cause: error },
      );
    }
  }
  return metadata;
}

function positiveIntegerOrZero(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ModelArtifactError(
      `${METADATA_MEMBER}: "${name}" must be a non-negative integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

async function readTarMembers(tarBytes: Buffer): Promise<Map<string, Buffer>> {
  const members = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.end(tarBytes);
  try {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') {
        members.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
      }
    }
  } catch (error) {
    throw new ModelArtifactError(`model artifact is not a readable tar archive (${(error as Error).message})`, {
      cause: error,
    });
  }
  return members;
}

function writeFloat32LE(values: Float32Array, target: Buffer, offset: number): void {
  for (let i = 0; i < values.length; i++) target.writeFloatLE(values[i], offset + i * 4);
}

function readFloat32LE(source: Buffer, offset: number, count: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = source.readFloatLE(offset + i * 4);
  return values;
}
