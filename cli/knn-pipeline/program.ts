// The `knn-pipeline` command line: one commander program, every command against a deployed stage or the local cloud.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT, stdio, type Io } from '../common/io';
import { addRunOptions } from '../common/runOptions';
// Types only: the target and the commands (SDK clients and all) load when a command runs, so --help starts fast.
import type { CommandTarget, TargetOptions } from './target';
import type { PredictOptions } from './commands/predict';
import type { RunsOptions } from './commands/runs';
import type { ScheduleOptions } from './commands/schedule';
import type { ShowOptions } from './commands/show';
import type { StartOptions } from './commands/start';
import type { StopOptions } from './commands/stop';

const RUN_ARGUMENT = 'execution name or ARN, or the run id (runs/<id>/ in the bucket)';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function addTargetOptions(command: Command): Command {
  return command
    .option('--local', 'the local cloud of `npm run local` (found through its endpoints file)')
    .option(
      '--endpoints-file <file>',
      'endpoints file of the local cloud (default .local-cloud/endpoints.json, or $KNN_PIPELINE_ENDPOINTS_FILE)',
    )
    .option('--stage <stage>', 'deployed stage (default dev)')
    .option('--region <region>', 'region of the deployed stage (default us-east-1, as in serverless.yml)')
    .option('--stack <name>', 'CloudFormation stack of the stage (default knn-pipeline-<stage>)')
    .option('--state-machine-arn <arn>', 'skip the lookup: the state machine to use')
    .option('--bucket <name>', 'skip the lookup: the data bucket to use');
}

const TARGET_HELP = `
Targets:
  --local                 the local cloud started with \`npm run local\` (reads .local-cloud/endpoints.json)
  --stage dev --region …  a deployed stage, with the standard AWS credentials (AWS_PROFILE, env, SSO…);
                          the state machine and bucket come from the CloudFormation stack knn-pipeline-<stage>,
                          or by name (knn-pipeline-<stage>, knn-pipeline-<stage>-data) without stack access`;

/** Builds a fresh program whose actions write to `io` and record their exit code in `exit`. */
export function buildProgram(io: Io, exit: { code: number }): Command {
  const program = new Command('knn-pipeline')
    .description(
      'Operate pipeline runs from the terminal: start, watch, list, inspect and stop them — on a deployed stage or the local cloud.',
    )
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `${TARGET_HELP}

Examples:
  npx knn-pipeline start --local data/iris.csv --watch
  npx knn-pipeline start --stage dev --key raw/iris.csv --k 3
  npx knn-pipeline runs --local
  npx knn-pipeline show --local iris-20260128-101500-ab12 --json
  npx knn-pipeline stop --stage prod <execution-name>`,
    );

  // commander calls an action with (...arguments, options, command); each command gets the target it names.
  // O: the options the command declares, as commander parses them (each command's own interface).
  type Action<O> = (target: CommandTarget, args: (string | undefined)[], options: O) => Promise<number>;
  const act =
    <O>(run: Action<O>) =>
    async (...received: unknown[]) => {
      const command = received[received.length - 1] as Command;
      const options = command.opts<O & TargetOptions>();
      const target = await (await import('./target')).resolveTarget(options);
      try {
        exit.code = await run(target, received.slice(0, -2) as (string | undefined)[], options);
      } finally {
        target.close();
      }
    };

  addTargetOptions(
    addRunOptions(
      program
        .command('start')
        .description(
          'Start a run: upload a local CSV under raw/ (the S3 trigger starts the run, exactly like any upload), or run on an object already in the bucket (--key: a console execution).',
        )
        .argument('[file]', 'local CSV to upload (key raw/<file name>, or --as)')
        .option(
          '--key <key>',
          'object already in the data bucket, e.g. raw/iris.csv (console execution {dataset:{key}})',
        )
        .option('--as <key>', 'key to upload the file to (under raw/)')
        .option('--name <name>', 'execution name for a console execution (default <dataset>-<yyyymmdd>-<hhmmss>-<hex>)')
        .option('--watch', 'follow the run until it ends (as `knn-pipeline watch`)')
        .option(
          '--trigger-timeout <seconds>',
          'how long to wait for the execution an upload starts (default 10 local, 60 AWS)',
          positiveInteger,
        )
        .option('--json', 'print JSON (the execution started; with --watch also the final report)'),
    ),
  )
    .addHelpText(
      'after',
      `
Run options set fields of the run's console input (the path in brackets); unset fields keep the stage defaults.
With a file they mean: upload the file (skipped when the same bytes are already at the key), then start a console
execution on that key with the options. Every upload under raw/ also fires the S3 rule, which would start a second
run with the stage defaults; that run is stopped at once (ABORTED, error "Superseded"), so one run remains.
Without a file or --key, the run uses the stage's default dataset (DATASET_KEY).
${TARGET_HELP}`,
    )
    .action(
      act<StartOptions & { triggerTimeout?: number }>(async (target, [file], options) =>
        (await import('./commands/start')).startCommand(
          target,
          file,
          { ...options, triggerTimeoutSeconds: options.triggerTimeout },
          io,
        ),
      ),
    );

  addTargetOptions(
    program
      .command('watch')
      .description('Follow a run live: states with durations, the training job and endpoint status, and the result.')
      .argument('<run>', RUN_ARGUMENT)
      .option('--timeout <seconds>', 'stop watching after this long (the run goes on)', positiveInteger)
      .option('--interval <ms>', 'poll interval (default 150 ms local, 3 s AWS)', positiveInteger)
      .option('--json', 'print nothing while watching, then the final report as JSON (as `show --json`)'),
  )
    .addHelpText(
      'after',
      `\nExit code: 0 when the run succeeded, 1 when it failed, was stopped or timed out.${TARGET_HELP}`,
    )
    .action(
      act<{ json?: boolean; timeout?: number; interval?: number }>(async (target, [run], options) =>
        (await import('./commands/watch')).watchCommand(
          target,
          run!,
          { json: options.json, timeoutSeconds: options.timeout, intervalMs: options.interval },
          io,
        ),
      ),
    );

  addTargetOptions(
    program
      .command('runs')
      .description(
        'List recent runs: status, start, duration, trigger (console / s3 / schedule), dataset and headline metric.',
      )
      .option('--max <n>', 'how many (newest first)', positiveInteger, 10)
      .addOption(
        new Option('--status <status>', 'only runs with this status').choices([
          'RUNNING',
          'SUCCEEDED',
          'FAILED',
          'TIMED_OUT',
          'ABORTED',
        ]),
      )
      .option('--json', 'print JSON'),
  )
    .addHelpText('after', TARGET_HELP)
    .action(
      act<RunsOptions>(async (target, _args, options) =>
        (await import('./commands/runs')).runsCommand(target, options, io),
      ),
    );

  addTargetOptions(
    program
      .command('show')
      .description(
        'Show one run: execution, states, SageMaker resources, metrics, confusion matrix, validation table, artifacts.',
      )
      .argument('<run>', RUN_ARGUMENT)
      .option('--rows <n>', 'validation rows to print', positiveInteger, 60)
      .option('--json', 'print the run report as JSON (metrics with the confusion matrix, artifacts, states)'),
  )
    .addHelpText('after', TARGET_HELP)
    .action(
      act<ShowOptions>(async (target, [run], options) =>
        (await import('./commands/show')).showCommand(target, run!, options, io),
      ),
    );

  addTargetOptions(
    program
      .command('stop')
      .description(
        'Stop a running execution (StopExecution). It ends ABORTED and the janitor deletes its SageMaker resources.',
      )
      .argument('<run>', RUN_ARGUMENT)
      .option('--error <code>', 'error code recorded with the stop')
      .option('--cause <text>', 'why (recorded with the stop)')
      .option('--json', 'print JSON'),
  )
    .addHelpText('after', TARGET_HELP)
    .action(
      act<StopOptions>(async (target, [run], options) =>
        (await import('./commands/stop')).stopCommand(target, run!, options, io),
      ),
    );

  addTargetOptions(
    program
      .command('schedule')
      .alias('fire-schedule')
      .description(
        "Fire the schedule rule now: a run on the stage's default dataset, with EventBridge's Scheduled Event as input.",
      )
      .option('--watch', 'follow the run until it ends')
      .option('--json', 'print JSON'),
  )
    .addHelpText(
      'after',
      `\nLocally this asks \`npm run local\` (POST /_local/schedule), which builds the event as EventBridge does; on a deployed
stage it starts an execution with the same event shape.${TARGET_HELP}`,
    )
    .action(
      act<ScheduleOptions>(async (target, _args, options) =>
        (await import('./commands/schedule')).scheduleCommand(target, options, io),
      ),
    );

  addTargetOptions(
    program
      .command('predict')
      .description(
        "Label raw rows with the model behind the stable endpoint (serving mode): each row goes through the serving run's recorded feature transform, then to the endpoint.",
      )
      .argument('<file>', 'CSV with a header naming at least the feature columns the model was trained on')
      .option('--endpoint <name>', 'the stable endpoint (default: the only <prefix>--serving endpoint)')
      .option('--json', 'print JSON (endpoint, config, run, and each row with its label)'),
  )
    .addHelpText(
      'after',
      `
The stable endpoint expects transformed features when the serving run used feature engineering; this command
applies that run's features/transform.json (docs/feature-transform.md), so it takes the same raw columns as the
training CSV (the label and dropped columns may be there; they are ignored).${TARGET_HELP}`,
    )
    .action(
      act<PredictOptions>(async (target, [file], options) =>
        (await import('./commands/predict')).predictCommand(target, file!, options, io),
      ),
    );

  return program;
}

/** Runs the command line in-process and returns the exit code; nothing here calls process.exit. */
export async function runCli(args: string[], io: Io = stdio): Promise<number> {
  const exit = { code: EXIT.ok as number };
  const program = buildProgram(io, exit);
  const write = (line: (text: string) => void) => (text: string) => line(text.replace(/\n$/, ''));
  program.exitOverride();
  program.configureOutput({ writeOut: write(io.out), writeErr: write(io.err) });
  for (const command of program.commands) {
    command.exitOverride();
    command.configureOutput({ writeOut: write(io.out), writeErr: write(io.err) });
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    if (error instanceof CliError) {
      io.err(`✖ ${error.message}`);
      return EXIT.error;
    }
    const e = error as Error;
    io.err(`✖ ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`);
    if (e.name === 'CredentialsProviderError') {
      io.err(
        '  A deployed stage needs AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID…, SSO); for the local cloud add --local.',
      );
    }
    if (process.env.KNN_PIPELINE_DEBUG) io.err(e.stack ?? '');
    return EXIT.error;
  }
}
