// `knn-pipeline start`: a run from a local file (uploaded under raw/, which fires the S3 trigger exactly like any
// upload) or from an object already in the bucket (a console execution with input {dataset:{key}}).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { candidateKeys } from '../../../src/domain/objectKeys';
import { describeExecution, parseInput } from '../../common/executions';
import { CliError, EXIT, sleep, type Io } from '../../common/io';
import { timestampedName } from '../../common/names';
import { consoleInput, describeRunOptions, hasRunOptions, type RunOptions } from '../../common/runOptions';
import type { Target } from '../../common/target';
import { watchExecution } from './watch';

export interface StartOptions extends RunOptions {
  key?: string;
  as?: string;
  name?: string;
  watch?: boolean;
  json?: boolean;
  /** How long to look for the execution an upload started (EventBridge delivers within seconds). */
  triggerTimeoutSeconds?: number;
}

/** What `start --json` prints (with --watch also `report`). */
export interface StartedRun {
  executionArn: string;
  executionName: string;
  trigger: 'console' | 's3';
  dataset: { bucket: string; key: string | null };
  uploaded: boolean;
  input?: unknown;
  /** The run the upload itself started with the stage defaults, stopped because options were given. */
  supersededExecutionArn?: string;
}

const SUPERSEDED = {
  error: 'Superseded',
  cause: (name: string) =>
    `knn-pipeline start: the run options were given to console execution ${name}, which runs on this upload instead`,
};

export async function startCommand(
  target: Target,
  file: string | undefined,
  options: StartOptions,
  io: Io,
): Promise<number> {
  const say = options.json ? () => undefined : (line: string) => io.out(line);
  const started = file
    ? await startFromFile(target, file, options, say)
    : await startFromKey(target, options.key, options, say);
  if (!options.watch) {
    say(`  Follow it: npx knn-pipeline watch ${started.executionName} ${target.flags}`);
    if (options.json) io.out(JSON.stringify(started, null, 2));
    return EXIT.ok;
  }
  say('');
  const execution = await describeExecution(target, started.executionArn);
  const watched = await watchExecution(target, execution, { json: options.json }, io);
  if (options.json) io.out(JSON.stringify({ ...started, report: watched.report }, null, 2));
  return watched.exitCode;
}

function checkRawKey(target: Target, key: string): void {
  if (!key.startsWith(target.rawPrefix)) {
    throw new CliError(
      `${key} is not under ${target.rawPrefix}: the S3 trigger and Prepare only take datasets under the raw prefix`,
    );
  }
}

async function startFromFile(
  target: Target,
  file: string,
  options: StartOptions,
  say: (line: string) => void,
): Promise<StartedRun> {
  if (options.key)
    throw new CliError(
      'Give either a file to upload or --key of an object already in the bucket (use --as to choose the key of an upload)',
    );
  if (!existsSync(file)) throw new CliError(`No such file: ${file}`);
  const key = options.as ?? `${target.rawPrefix}${path.basename(file)}`;
  checkRawKey(target, key);
  const body = readFileSync(file);
  const sha256 = createHash('sha256').update(body).digest('hex');

  if (!hasRunOptions(options)) {
    // The upload is the trigger: EventBridge's rule starts the run with the stage defaults.
    const since = new Date();
    const put = await upload(target, key, body, sha256, file, say);
    const executionArn = await findTriggeredExecution(target, key, put, since, triggerTimeout(target, options));
    if (!executionArn) {
      throw new CliError(
        `Uploaded s3://${target.bucket}/${key}, but no execution for it showed up in ${triggerTimeout(target, options)} s. ` +
          `Is the S3 trigger deployed? See: npx knn-pipeline runs ${target.flags}`,
      );
    }
    const executionName = executionArn.split(':').pop()!;
    say(`▶ Started ${executionName} (S3 trigger, stage defaults)`);
    return { executionArn, executionName, trigger: 's3', dataset: { bucket: target.bucket, key }, uploaded: true };
  }

  // Run options only reach a run through a console execution. Every upload under raw/ also fires the S3 rule, so a new
  // upload starts a default run as well; that one is stopped (ABORTED, error "Superseded") so one run remains.
  const since = new Date();
  const put = await uploadUnlessPresent(target, key, body, sha256, file, say);
  const started = await startConsoleExecution(target, key, options, say);
  if (put) {
    const triggered = await findTriggeredExecution(target, key, put, since, triggerTimeout(target, options));
    if (triggered) {
      await target.sfn.send(
        new StopExecutionCommand({
          executionArn: triggered,
          error: SUPERSEDED.error,
          cause: SUPERSEDED.cause(started.executionName),
        }),
      );
      say(
        `■ Stopped ${triggered.split(':').pop()} — the default run the upload started (superseded; the janitor cleans up after it)`,
      );
      started.supersededExecutionArn = triggered;
    } else {
      say(
        `! The upload's own S3-triggered run did not show up in ${triggerTimeout(target, options)} s; if it appears, stop it with knn-pipeline stop`,
      );
    }
  }
  return { ...started, uploaded: Boolean(put) };
}

async function startFromKey(
  target: Target,
  key: string | undefined,
  options: StartOptions,
  say: (line: string) => void,
): Promise<StartedRun> {
  if (options.as) throw new CliError('--as names the key of an upload; give the file to upload');
  if (key) {
    checkRawKey(target, key);
    try {
      await target.s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }));
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
        throw new CliError(
          `s3://${target.bucket}/${key} does not exist; upload it with: npx knn-pipeline start FILE --as ${key} ${target.flags}`,
        );
      }
      throw error;
    }
  }
  return startConsoleExecution(target, key, options, say);
}

async function startConsoleExecution(
  target: Target,
  key: string | undefined,
  options: StartOptions,
  say: (line: string) => void,
): Promise<StartedRun> {
  const input = consoleInput(key, options);
  const name = options.name ?? timestampedName(key ? path.basename(key).replace(/\.[^.]*$/, '') : 'run');
  const { executionArn } = await target.sfn.send(
    new StartExecutionCommand({ stateMachineArn: target.stateMachineArn, name, input: JSON.stringify(input) }),
  );
  const settings = describeRunOptions(options);
  say(
    `▶ Started ${name} (console) on ${key ? `s3://${target.bucket}/${key}` : 'the stage default dataset'}${settings ? ` with ${settings}` : ''}`,
  );
  return {
    executionArn: executionArn!,
    executionName: name,
    trigger: 'console',
    dataset: { bucket: target.bucket, key: key ?? null },
    uploaded: false,
    input,
  };
}

interface Upload {
  etag?: string;
  versionId?: string;
}

async function upload(
  target: Target,
  key: string,
  body: Buffer,
  sha256: string,
  file: string,
  say: (line: string) => void,
): Promise<Upload> {
  const put = await target.s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: key,
      Body: body,
      ContentType: 'text/csv',
      Metadata: { sha256 },
    }),
  );
  say(`⇡ Uploaded ${file} → s3://${target.bucket}/${key} (${body.length} bytes)`);
  return { etag: put.ETag, versionId: put.VersionId };
}

/** With run options the upload only has to put the data in place: the same bytes already there need no new upload. */
async function uploadUnlessPresent(
  target: Target,
  key: string,
  body: Buffer,
  sha256: string,
  file: string,
  say: (line: string) => void,
): Promise<Upload | undefined> {
  try {
    const head = await target.s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }));
    if (head.Metadata?.sha256 === sha256) {
      say(`= s3://${target.bucket}/${key} already holds ${file} (same SHA-256); not uploaded again`);
      return undefined;
    }
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
  }
  return upload(target, key, body, sha256, file, say);
}

function triggerTimeout(target: Target, options: StartOptions): number {
  return options.triggerTimeoutSeconds ?? (target.kind === 'local' ? 10 : 60);
}

const unquote = (etag: string | undefined) => etag?.replace(/"/g, '');

/** The execution the S3 rule started for this upload: its input is the Object Created event of this key and version. */
async function findTriggeredExecution(
  target: Target,
  key: string,
  put: Upload,
  since: Date,
  timeoutSeconds: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  // Clocks of this machine and AWS may differ by a little.
  const earliest = since.getTime() - 5000;
  const checked = new Set<string>();
  for (;;) {
    const { executions = [] } = await target.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: target.stateMachineArn, maxResults: 50 }),
    );
    for (const candidate of executions) {
      if (checked.has(candidate.executionArn!) || candidate.startDate!.getTime() < earliest) continue;
      checked.add(candidate.executionArn!);
      const input = parseInput(await describeExecution(target, candidate.executionArn!));
      const object = input?.source === 'aws.s3' ? input.detail?.object : undefined;
      if (!object?.key || !candidateKeys(object.key).includes(key)) continue;
      if (put.versionId && object['version-id'] && put.versionId !== object['version-id']) continue;
      if (put.etag && object.etag && unquote(put.etag) !== unquote(object.etag)) continue;
      return candidate.executionArn;
    }
    if (Date.now() > deadline) return undefined;
    await sleep(target.pollMs);
  }
}
