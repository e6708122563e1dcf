/**
 * The inference wire contract of the k-NN container (reference A.4): request bodies in, response bodies out.
 * recordIO-protobuf is not implemented locally; it is rejected like any other unsupported type.
 */

import { parseFeatureCsv } from '../../src/domain/dataset';
import { InferenceInputError } from './errors';
import type { Prediction } from './predict';
import { pythonJsonFloat } from './pythonFloat';

export { InferenceInputError } from './errors';

export const REQUEST_CONTENT_TYPES = ['text/csv', 'application/json', 'application/jsonlines'] as const;
export const RESPONSE_CONTENT_TYPES = ['application/json', 'application/jsonlines'] as const;

interface MediaType {
  type: string;
  parameters: Map<string, string>;
}

/** Parses a request body into row-major float32 features, `featureDim` per row, one row per record, in order. */
export function parseInferenceRequest(
  body: Uint8Array,
  contentType: string,
  featureDim: number,
): { data: Float32Array; count: number } {
  const media = parseMediaType(contentType ?? '');
  if (!(REQUEST_CONTENT_TYPES as readonly string[]).includes(media.type)) {
    throw new InferenceInputError(
      `Content type ${JSON.stringify(contentType)} is not supported; use one of ${REQUEST_CONTENT_TYPES.join(', ')}` +
        (media.type === 'application/x-recordio-protobuf'
          ? ' (recordIO-protobuf is not implemented by the local emulator)'
          : ''),
    );
  }
  const charset = media.parameters.get('charset') ?? media.parameters.get('encoding');
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new InferenceInputError(`Only UTF-8 request bodies are supported, got charset ${JSON.stringify(charset)}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (error) {
    throw new InferenceInputError('Request body is not valid UTF-8', { cause: error });
  }
  if (text.trim() === '') throw new InferenceInputError('Request body is empty: send at least one record');

  let rows: unknown[][];
  let describe: (index: number) => string;
  switch (media.type) {
    case 'text/csv': {
      const labelSize = media.parameters.get('label_size');
      if (labelSize !== undefined && labelSize !== '0') {
        throw new InferenceInputError(
          `text/csv inference requests carry features only: label_size must be 0, got ${labelSize}`,
        );
      }
      rows = parseCsvRows(text);
      describe = (index) => `row ${index + 1}`;
      break;
    }
    case 'application/json': {
      const document = parseJson(text, 'Request body');
      const instances = isRecord(document) && 'instances' in document ? document.instances : [document];
      if (!Array.isArray(instances)) throw new InferenceInputError('"instances" must be an array of records');
      describe = (index) => `instance ${index}`;
      rows = instances.map((instance, index) => instanceFeatures(instance, describe(index), featureDim));
      break;
    }
    default: {
      const lines = text.split(/\r?\n/);
      const lineNumbers: number[] = [];
      rows = [];
      lines.forEach((line, index) => {
        if (line.trim() === '') return;
        lineNumbers.push(index + 1);
        rows.push(instanceFeatures(parseJson(line, `Line ${index + 1}`), `line ${index + 1}`, featureDim));
      });
      describe = (index) => `line ${lineNumbers[index]}`;
    }
  }
  if (rows.length === 0) throw new InferenceInputError('Request body holds no records');

  const data = new Float32Array(rows.length * featureDim);
  rows.forEach((row, index) => {
    if (row.length !== featureDim) {
      throw new InferenceInputError(
        `${capitalise(describe(index))} has ${row.length} features, expected ${featureDim} (feature_dim)`,
      );
    }
    row.forEach((value, position) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new InferenceInputError(
          `${capitalise(describe(index))} has a non-numeric value ${JSON.stringify(value) ?? String(value)} at feature ${position + 1}`,
        );
      }
      data[index * featureDim + position] = value;
    });
  });
  return { data, count: rows.length };
}

/**
 * Serialises predictions for an Accept header (default application/json); `verbose=true` adds labels and distances
 * (so predict with `{ verbose: parseAcceptHeader(accept).verbose }`, or always verbose: non-verbose output drops them).
 */
export function formatInferenceResponse(
  predictions: Prediction[],
  accept: string | undefined,
): { body: string; contentType: string } {
  const { contentType, verbose } = parseAcceptHeader(accept);
  const records = predictions.map((prediction) => formatPrediction(prediction, verbose));
  if (contentType === 'application/jsonlines') return { body: records.join('\n'), contentType };
  return { body: `{"predictions":[${records.join(',')}]}`, contentType };
}

/** The response type an Accept header asks for (first supported media range wins); InferenceInputError if none. */
export function parseAcceptHeader(accept: string | undefined): {
  contentType: (typeof RESPONSE_CONTENT_TYPES)[number];
  verbose: boolean;
} {
  const header = accept?.trim() ?? '';
  if (header === '') return { contentType: 'application/json', verbose: false };
  for (const range of header.split(',')) {
    const media = parseMediaType(range);
    const type =
      media.type === '*/*' || media.type === 'application/*' || media.type === 'application/json'
        ? 'application/json'
        : media.type === 'application/jsonlines'
          ? 'application/jsonlines'
          : undefined;
    if (!type) continue;
    const verbose = media.parameters.get('verbose')?.toLowerCase();
    if (verbose !== undefined && verbose !== 'true' && verbose !== 'false') {
      throw new InferenceInputError(`Accept parameter verbose must be true or false, got ${JSON.stringify(verbose)}`);
    }
    return { contentType: type, verbose: verbose === 'true' };
  }
  throw new InferenceInputError(
    `Accept ${JSON.stringify(accept)} is not supported; use ${RESPONSE_CONTENT_TYPES.join(' or ')} (optionally with "; verbose=true")`,
  );
}

/** One prediction as Python's json.dumps writes it: floats keep their ".0", keys in a fixed order. */
function formatPrediction(prediction: Prediction, verbose: boolean): string {
  let record = `{"predicted_label":${pythonJsonFloat(prediction.predicted_label)}`;
  if (verbose) {
    record += `,"labels":[${(prediction.labels ?? []).map(pythonJsonFloat).join(',')}]`;
    record += `,"distances":[${(prediction.distances ?? []).map(pythonJsonFloat).join(',')}]`;
  }
  return `${record}}`;
}

function parseMediaType(header: string): MediaType {
  const [type, ...rest] = header.split(';');
  const parameters = new Map<string, string>();
  for (const parameter of rest) {
    const separator = parameter.indexOf('=');
    if (separator < 0) continue;
    const value = parameter
      .slice(separator + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    parameters.set(parameter.slice(0, separator).trim().toLowerCase(), value);
  }
  return { type: type.trim().toLowerCase(), parameters };
}

function parseCsvRows(text: string): number[][] {
  try {
    return parseFeatureCsv(text);
  } catch (error) {
    throw new InferenceInputError(`text/csv request body could not be parsed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InferenceInputError(`${what} is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** One record's dense feature list: `{"features":[…]}` or `{"data":{"features":{"values":[…]}}}` (maybe sparse). */
function instanceFeatures(instance: unknown, where: string, featureDim: number): unknown[] {
  if (isRecord(instance) && Array.isArray(instance.features)) return instance.features;
  const features = isRecord(instance) && isRecord(instance.data) ? instance.data.features : undefined;
  if (isRecord(features) && Array.isArray(features.values)) {
    if (features.keys === undefined) return features.values;
    return sparseToDense(features.keys, features.values, features.shape, where, featureDim);
  }
  throw new InferenceInputError(
    `${capitalise(where)} must be {"features":[…]} or {"data":{"features":{"values":[…]}}}, got ${truncate(JSON.stringify(instance) ?? String(instance))}`,
  );
}

function sparseToDense(keys: unknown, values: unknown[], shape: unknown, where: string, featureDim: number): unknown[] {
  if (!Array.isArray(keys) || keys.length !== values.length) {
    throw new InferenceInputError(`${capitalise(where)}: sparse "keys" must be an array as long as "values"`);
  }
  const width = Array.isArray(shape) && typeof shape[0] === 'number' ? shape[0] : featureDim;
  const dense: unknown[] = new Array<unknown>(width).fill(0);
  keys.forEach((key, i) => {
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= width) {
      throw new InferenceInputError(
        `${capitalise(where)}: sparse key ${JSON.stringify(key)} is not an index in [0, ${width})`,
      );
    }
    dense[key] = values[i];
  });
  return dense;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
