// `knn-pipeline schedule`: fires the schedule rule now — a run on the stage's default dataset (DATASET_KEY).
import { describeExecution } from '../../common/executions';
import { EXIT, type Io } from '../../common/io';
import type { CommandTarget } from '../target';
import { watchExecution } from './watch';

export interface ScheduleOptions {
  watch?: boolean;
  json?: boolean;
}

export async function scheduleCommand(target: CommandTarget, options: ScheduleOptions, io: Io): Promise<number> {
  const { executionArn } = await target.fireSchedule();
  const name = executionArn.split(':').pop()!;
  if (!options.json) {
    io.out(`▶ Started ${name} (schedule trigger, stage default dataset)`);
    io.out(`  Follow it: npx knn-pipeline watch ${name} ${target.flags}`);
  }
  if (!options.watch) {
    if (options.json) io.out(JSON.stringify({ executionArn, executionName: name, trigger: 'schedule' }, null, 2));
    return EXIT.ok;
  }
  if (!options.json) io.out('');
  const watched = await watchExecution(
    target,
    await describeExecution(target, executionArn),
    { json: options.json },
    io,
  );
  if (options.json)
    io.out(JSON.stringify({ executionArn, executionName: name, trigger: 'schedule', report: watched.report }, null, 2));
  return watched.exitCode;
}
