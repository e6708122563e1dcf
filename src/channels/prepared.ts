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

/** Whole rows as they stream in: each block ends at a line end (a last row without one gets it). */
async function* rowBlocks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const bytes = carry.length === 0 ? Buffer.from(chunk) : Buffer.concat([carry, chunk]);
    const end = bytes.lastIndexOf(0x0a) + 1;
    carry = bytes.subarray(end);
    if (end > 0) yield bytes.subarray(0, end);
  }
  if (carry.length > 0) yield Buffer.concat([carry, Buffer.from('\n')]);
}

/**
 * The prepared rows as the channels hold them (label first, then the features), for the channel-set writer. The
 * features must have exactly one row a label: anything else means the two objects come from different runs.
 */
export async function preparedRows(prepared: PreparedRefs): Promise<ChannelSource> {
  const uri = `s3://${prepared.features.bucket}/${prepared.features.key}`;
  const [labels, features] = await Promise.all([readPreparedLabels(prepared.labels), openObject(prepared.features)]);
  // Class indices repeat: their text is made once.
  const labelTexts = new Map<number, Buffer>();
  const labelText = (label: number) => {
    let text = labelTexts.get(label);
    if (text === undefined) {
      text = Buffer.from(`${label},`);
      if (labelTexts.size < 1024) labelTexts.set(label, text);
    }
    return text;
  };
  async function* blocks(): AsyncGenerator<Buffer> {
    let row = 0;
    for await (const block of rowBlocks(features.chunks)) {
      const texts: Buffer[] = [];
      let size = block.length;
      for (let at = 0; at < block.length; at = block.indexOf(0x0a, at) + 1) {
        if (row + texts.length >= labels.length) {
          throw new ArtifactMismatchError(`${uri} has more rows than the ${labels.length} labels; run Prepare again`);
        }
        const text = labelText(labels[row + texts.length]);
        texts.push(text);
        size += text.length;
      }
      const out = Buffer.allocUnsafe(size);
      let written = 0;
      let at = 0;
      for (const text of texts) {
        const end = block.indexOf(0x0a, at) + 1;
        written += text.copy(out, written);
        written += block.copy(out, written, at, end);
        at = end;
      }
      row += texts.length;
      yield out;
    }
    if (row !== labels.length) {
      throw new ArtifactMismatchError(
        `${uri} has ${row} rows but there are ${labels.length} labels; run Prepare again`,
      );
    }
  }
  return { rowCount: labels.length, blocks: blocks(), bytes: features.size + labels.length * 4 };
}
