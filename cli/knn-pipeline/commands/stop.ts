// `knn-pipeline stop RUN`: StopExecution. The execution ends ABORTED, and the janitor (EventBridge rule on ABORTED)
// deletes the run's SageMaker resources; Step Functions itself stops a running training job.
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { describeExecution, resolveExecution } from '../../common/executions';
import { formatDuration, statusLabel } from '../../common/format';
import { EXIT, sleep, type Io } from '../../common/io';
import type { Target } from '../../common/target';

export interface StopOptions {
  error?: string;
  cause?: string;
  json?: boolean;
}

export const DEFAULT_STOP_CAUSE = 'Stopped with knn-pipeline stop';

export async function stopCommand(target: Target, run: string, options: StopOptions, io: Io): Promise<number> {
  const execution = await resolveExecution(target, run);
  if (execution.status !== 'RUNNING') {
    if (options.json)
      io.out(
        JSON.stringify({ executionArn: execution.executionArn, status: execution.status, stopped: false }, null, 2),
      );
    else io.out(`${execution.name} already ended: ${statusLabel(execution.status)}. Nothing to stop.`);
    return EXIT.ok;
  }
  await target.sfn.send(
    new StopExecutionCommand({
      executionArn: execution.executionArn,
      error: options.error,
      cause: options.cause ?? DEFAULT_STOP_CAUSE,
    }),
  );
  // The service records the stop at once, the local interpreter a moment later; wait briefly to report the outcome.
  let after = await describeExecution(target, execution.executionArn!);
  for (let i = 0; after.status === 'RUNNING' && i < 50; i++) {
    await sleep(Math.min(target.pollMs, 200));
    after = await describeExecution(target, execution.executionArn!);
  }
  if (options.json) {
    io.out(
      JSON.stringify(
        {
          executionArn: after.executionArn,
          status: after.status,
          stopped: true,
          error: after.error ?? null,
          cause: after.cause ?? null,
        },
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  const took =
    after.stopDate && after.startDate
      ? ` after ${formatDuration(after.stopDate.getTime() - after.startDate.getTime())}`
      : '';
  io.out(`${statusLabel(after.status)} ${after.name}${took}`);
  io.out(
    '  The janitor deletes the run’s SageMaker resources (training job stopped; model, endpoint config and endpoint deleted).',
  );
  io.out(`  Check: npx knn-pipeline show ${after.name} ${target.flags}`);
  return EXIT.ok;
}
