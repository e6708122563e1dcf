#!/usr/bin/env node
// `npm start -- [options]`: the command line of runLocal (./runLocal.ts); cli/launch.cjs runs it from its bundle.
import path from 'node:path';
import { Command } from 'commander';
import { addRunOptions, hasStageParam } from '../common/runOptions';
// Types only: the local cloud (and everything it loads) comes in when a run starts, so --help answers at once.
import type { LocalRunOptions } from './runLocal';
import { QUOTA_HELP, parseQuotaFlag } from '../../local/sagemaker/quotas';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
const IAM_HELP = 'IAM enforcement from serverless.yml (on by default); --no-iam to debug without it';

export function program(): Command {
  const command = new Command('npm start --')
    .description(
      'Run the whole pipeline offline: local S3, local SageMaker and the Step Functions definition, on a CSV.',
    )
    .option('--data <file>', 'CSV file with a header row and a label column', path.join(PROJECT_ROOT, 'data/iris.csv'));
  // Only the options a stage parameter can carry: the upload, not a console input, starts the run.
  return addRunOptions(command, hasStageParam)
    .option('--json', 'print one JSON summary on stdout (progress goes to stderr); exit code 1 when the run fails')
    .option('--dir <dir>', 'where the local cloud keeps its data', path.join(PROJECT_ROOT, '.local-cloud'))
    .option('--quota <scope[:type]=n>', QUOTA_HELP, parseQuotaFlag)
    .option('--no-iam', IAM_HELP)
    .addHelpText(
      'after',
      `
Run options set the local stage's parameters, the way serverless.yml params set a deployed stage's; the field of the
execution input each one stands for is in brackets. The file is uploaded under raw/ and its S3 event starts the run.

IAM enforcement from serverless.yml: every request is authorised against the role of whoever makes it (each function,
the state machine, SageMaker) and the bucket policy; requests denied are listed before the result ("Denied by IAM")
and in --json's denials. --no-iam to debug without it.`,
    );
}

export async function main(argv: string[]): Promise<void> {
  // The SDK's "Node 22 needed from 2027" notice is for the Lambda runtime decision, not for a local run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = program().parse(argv).opts<LocalRunOptions>();
  const stream = options.json ? process.stderr : process.stdout;
  // With --json, stdout carries exactly one JSON object: progress, and anything else written to stdout during the run
  // (the handlers' logs, CloudWatch's in AWS), goes to stderr.
  const writeStdout = process.stdout.write.bind(process.stdout);
  if (options.json) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const { runLocal } = await import('./runLocal');
  const summary = await runLocal(options, (line) => stream.write(`${line}\n`)).finally(() => {
    process.stdout.write = writeStdout;
  });
  if (options.json) writeStdout(`${JSON.stringify(summary, null, 2)}\n`);
  process.exitCode = summary.status === 'SUCCEEDED' ? 0 : 1;
}

if (require.main === module) {
  main(process.argv).catch((error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  });
}
