import { capacityWaitMs, executionSection } from '../../../src/report/sections/execution';
import type { RunReportInput } from '../../../src/report/types';

const steps = [
  { state: 'Upload', status: 'succeeded', durationMs: 500 },
  { state: 'AwaitTrainCapacity', status: 'succeeded', durationMs: 100 },
  { state: 'WaitForTrainCapacity', status: 'succeeded', durationMs: 30_000 },
  { state: 'AwaitTrainCapacity', status: 'succeeded', durationMs: 120 },
  { state: 'Train', status: 'succeeded', durationMs: 60_000 },
  { state: 'WaitForEndpoint', status: 'succeeded', durationMs: 30_000 },
];

test('the report records the time spent waiting for capacity: the capacity polls and the waits between them', async () => {
  expect(capacityWaitMs(steps)).toBe(30_220);
  const html = (await executionSection({ executionPath: steps } as unknown as RunReportInput)).html;
  expect(html).toMatch(/Waited 30\.2 s for SageMaker capacity/);
  const none = (await executionSection({ executionPath: steps.slice(4) } as unknown as RunReportInput)).html;
  expect(none).not.toMatch(/for SageMaker capacity/);
});
