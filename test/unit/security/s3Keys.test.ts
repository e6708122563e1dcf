/**
 * S3 object keys are literal: a key like `raw/../runs/x` names an object under `raw/`, not under `runs/`. The SDK
 * sends it unnormalised (checked here on the request it signs), S3 stores and authorises it as the literal string,
 * so an IAM grant on `raw/*` (read only) is what applies to it — it cannot reach the write grants on `runs/*`.
 */
import { GetObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { iamMatches } from '../../deploy/leastPrivilege';

const BUCKET = 'knn-pipeline-dev-data';

/** The path of the HTTP request the SDK would send for a key (the handler stops before the network). */
async function requestPath(key: string, command: 'get' | 'head' = 'get'): Promise<string> {
  let path = '';
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async (request: { path: string }) => {
        path = request.path;
        throw Object.assign(new Error('captured'), { name: 'Captured' });
      },
    } as S3ClientConfig['requestHandler'],
  });
  const input = { Bucket: BUCKET, Key: key };
  await expect(
    client.send(command === 'get' ? new GetObjectCommand(input) : new HeadObjectCommand(input)),
  ).rejects.toThrow('captured');
  client.destroy();
  return path;
}

test.each([
  ['raw/../runs/victim/claim.json', '/raw/../runs/victim/claim.json'],
  ['raw/./x.csv', '/raw/./x.csv'],
  ['raw//x.csv', '/raw//x.csv'],
  // Percent signs are themselves encoded: S3 receives the literal characters "%2e%2e", not "..".
  ['raw/%2e%2e/runs/x', '/raw/%252e%252e/runs/x'],
  ['raw/ü x+y.csv', '/raw/%C3%BC%20x%2By.csv'],
])('the SDK sends %j unnormalised', async (key, path) => {
  for (const command of ['get', 'head'] as const) expect(await requestPath(key, command)).toBe(path);
});

test('IAM authorises the literal key: raw/../runs/… is under raw/ (read only), never under runs/', () => {
  const object = (key: string) => `arn:aws:s3:::${BUCKET}/${key}`;
  const key = 'raw/../runs/victim/claim.json';
  expect(iamMatches(object('raw/*'), object(key))).toBe(true);
  expect(iamMatches(object('runs/*'), object(key))).toBe(false);
  expect(iamMatches(object('runs/*/claim.json'), object(key))).toBe(false);
});
