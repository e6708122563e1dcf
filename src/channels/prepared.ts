// The prepared dataset in S3: features.csv (the rows' features as the channels write them) and labels.f64 (one
// little-endian float64 a row). Prepare writes it in one streaming pass; Upload and Report read it back as rows.
import { getObjectBytes, objectChunks, openObject, putObject, type ObjectRef } from '../aws/objects';
import { ObjectWriter } from '../aws/objectWriter';
import { DatasetReader, type PrepareDatasetOptions, type PreparedSummary } from '../domain/dataset';
import { ArtifactMismatchError } from '../domain/errors';
import type { ChannelSource } from './writer';

export interface PreparedRefs {
  features: ObjectRef;
  labels: ObjectRef;
}

/**
 * Validates the raw CSV as it streams in and writes the prepared features as they are read. On a problem nothing is
 * left behind: the features upload is aborted before the error is rethrown.
 */
export async function writePreparedDataset(
  raw: ObjectRef,
  prepared: PreparedRefs,
  options: PrepareDatasetOptions,
): Promise<PreparedSummary> {
  const reader = new DatasetReader(options);
  const features = new ObjectWriter(prepared.features, { contentType: 'text/csv' });
  let summary: PreparedSummary;
  try {
    for await (const chunk of objectChunks(raw)) await features.write(reader.push(chunk));
    const end = reader.finish();
    await features.write(end.text);
    await features.close();
    summary = end.summary;
  } catch (error) {
    await features.abort();
    throw error;
  }
  const { labels } = summary;
  await putObject(
    prepared.labels,
    new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength),
    'application/octet-stream',
  );
  return summary;
}

/** The labels Prepare wrote: one float64 a row, in file order. */
export async function readPreparedLabels(ref: ObjectRef): Promise<Float64Array> {
  const bytes = await getObjectBytes(ref);
  if (bytes.byteLength % 8 !== 0) {
    throw new ArtifactMismatchError(
      `s3://${ref.bucket}/${ref.key} is ${bytes.byteLength} bytes, not a whole number of float64 labels`,
    );
  }
  // A copy, so the values are 8-byte aligned whatever the buffer the SDK filled.
  return new Float64Array(bytes.slice().buffer);
}

/** Rows batched as they stream in; each row one line without its line end. */
async function* lineBatches(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8');
  let carry = '';
  for await (const chunk of chunks) {
    const text = carry + decoder.decode(chunk, { stream: true });
    const end = text.lastIndexOf('\n');
    if (end === -1) {
      carry = text;
      continue;
    }
    carry = text.slice(end + 1);
    yield text.slice(0, end).split('\n');
  }
  const rest = carry + decoder.decode();
  if (rest !== '') yield [rest];
}

/**
 * The prepared rows as the channels hold them (label first, then the features), for the channel-set writer. The
 * features must have exactly one row a label: anything else means the two objects come from different runs.
 */
export async function preparedRows(prepared: PreparedRefs): Promise<ChannelSource> {
  const uri = `s3://${prepared.features.bucket}/${prepared.features.key}`;
  const [labels, features] = await Promise.all([readPreparedLabels(prepared.labels), openObject(prepared.features)]);
  async function* lines(): AsyncGenerator<string[]> {
    let row = 0;
    for await (const batch of lineBatches(features.chunks)) {
      if (row + batch.length > labels.length) {
        throw new ArtifactMismatchError(`${uri} has more rows than the ${labels.length} labels; run Prepare again`);
      }
      yield batch.map((line) => `${labels[row++]},${line}`);
    }
    if (row !== labels.length) {
      throw new ArtifactMismatchError(
        `${uri} has ${row} rows but there are ${labels.length} labels; run Prepare again`,
      );
    }
  }
  return { rowCount: labels.length, lines: lines(), bytes: features.size + labels.length * 4 };
}
