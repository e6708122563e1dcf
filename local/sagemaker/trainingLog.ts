// Training-job log in the k-NN container's line format, kept in memory and optionally mirrored to a file.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const THREAD_ID = '140285487171328'; // the thread id the real k-NN container prints
const PREFIXED_LINE = /^\[\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} [A-Z]+ \d+\] /;

export function logPrefix(date: Date, level = 'INFO'): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${date.getUTCFullYear()}`;
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `[${day} ${time} ${level} ${THREAD_ID}]`;
}

/** A job's log lines, kept in memory and mirrored to `<logDirectory>/<folder>/<job>.log` when there is one. */
abstract class JobLog {
  private readonly filePath?: string;

  constructor(
    private readonly lines: string[],
    folder: string,
    jobName: string,
    logDirectory?: string,
  ) {
    if (logDirectory) {
      const directory = join(logDirectory, folder);
      mkdirSync(directory, { recursive: true });
      this.filePath = join(directory, `${jobName}.log`);
    }
  }

  protected append(line: string): void {
    this.lines.push(line);
    if (this.filePath) {
      try {
        appendFileSync(this.filePath, `${line}\n`);
      } catch {
        // the in-memory log stays authoritative when the file can't be written
      }
    }
  }
}

export class TrainingJobLog extends JobLog {
  constructor(lines: string[], jobName: string, logDirectory?: string) {
    super(lines, 'TrainingJobs', jobName, logDirectory);
  }

  info(message: string): void {
    this.append(`${logPrefix(new Date())} ${message}`);
  }

  error(message: string): void {
    this.append(`${logPrefix(new Date(), 'ERROR')} ${message}`);
  }

  /** Lines from the algorithm keep their own prefix; bare lines get one. */
  algorithm(lines: readonly string[]): void {
    for (const line of lines) this.append(PREFIXED_LINE.test(line) ? line : `${logPrefix(new Date())} ${line}`);
  }
}

/**
 * A transform job's log, in the format of its data log on CloudWatch (`/aws/sagemaker/TransformJobs`, stream
 * `<job>/<instance>/data-log`): `2019-10-08T14:43:45.016:[sagemaker logs]: <bucket>/<key>: ClientError: 400`.
 */
export class TransformJobLog extends JobLog {
  constructor(lines: string[], jobName: string, logDirectory?: string) {
    super(lines, 'TransformJobs', jobName, logDirectory);
  }

  info(message: string): void {
    this.append(`${new Date().toISOString().replace(/Z$/, '')}:[sagemaker logs]: ${message}`);
  }

  /** A line about one input object, prefixed with `<bucket>/<key>: ` as SageMaker prefixes them. */
  object(bucket: string, key: string, message: string): void {
    for (const line of message.split('\n')) this.info(`${bucket}/${key}: ${line}`);
  }
}
