// Reads and rewrites model.tar.gz members directly, to test what the artifact holds and how edits act.
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

export async function readMembers(artifact: Buffer): Promise<Map<string, Buffer>> {
  const extract = tar.extract();
  extract.end(gunzipSync(artifact));
  const members = new Map<string, Buffer>();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    members.set(entry.header.name, Buffer.concat(chunks));
  }
  return members;
}

export async function writeMembers(members: Map<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of members) pack.entry({ name, size: content.length }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/** The artifact with one member replaced (or removed, when `content` is undefined). */
export async function withMember(artifact: Buffer, name: string, content: Buffer | undefined): Promise<Buffer> {
  const members = await readMembers(artifact);
  if (content === undefined) members.delete(name);
  else members.set(name, content);
  return writeMembers(members);
}

/** The artifact with model_algo-1.json edited. */
export async function withMetadata(
  artifact: Buffer,
  edit: (metadata: Record<string, unknown>) => void,
): Promise<Buffer> {
  const members = await readMembers(artifact);
  const metadata = JSON.parse(members.get('model_algo-1.json')!.toString('utf8')) as Record<string, unknown>;
  edit(metadata);
  members.set('model_algo-1.json', Buffer.from(JSON.stringify(metadata)));
  return writeMembers(members);
}
