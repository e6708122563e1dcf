import { costFromRun, endpointLifetimeSeconds, estimateCost, INSTANCE_PRICES } from '../../../src/report';

describe('estimateCost', () => {
  test('prices instance-seconds from the dated table, per line and in total', () => {
    const estimate = estimateCost({
      training: { instanceType: 'ml.m5.large', instanceCount: 2, seconds: 1800 },
      endpoint: { instanceType: 'ml.c5.xlarge', instanceCount: 1, seconds: 3600 },
    });
    expect(estimate.lines[0]).toMatchObject({ use: 'training', instanceSeconds: 3600, usdPerHour: 0.115 });
    expect(estimate.lines[0].usd).toBeCloseTo(0.115, 10);
    expect(estimate.lines[1].usd).toBeCloseTo(0.204, 10);
    expect(estimate.totalUsd).toBeCloseTo(0.319, 10);
    expect(INSTANCE_PRICES.description).toMatch(/approximate .*us-east-1.*as of \d{4}-\d{2}/);
  });

  test('keeps the seconds but gives no price for an unknown type or unknown duration', () => {
    const estimate = estimateCost({
      training: { instanceType: 'ml.x9.huge', instanceCount: 3, seconds: 10 },
      endpoint: { instanceType: 'ml.m5.large', instanceCount: 1, seconds: null },
    });
    expect(estimate.lines.map((line) => [line.instanceSeconds, line.usd])).toEqual([
      [30, null],
      [null, null],
    ]);
    expect(estimate.totalUsd).toBeNull();
  });
});

describe('instance usage of a run', () => {
  const path = [
    { state: 'Train', status: 'succeeded', durationMs: 90_000 },
    { state: 'CreateEndpoint', status: 'succeeded', durationMs: 400 },
    { state: 'WaitForEndpoint', status: 'succeeded', durationMs: 30_000 },
    { state: 'Evaluate', status: 'succeeded', durationMs: 2_000 },
    { state: 'CleanUp', status: 'succeeded', durationMs: 1_250 },
    { state: 'QualityGate', status: 'succeeded', durationMs: 0 },
  ];

  test('the endpoint lives from CreateEndpoint to the end of cleanup', () => {
    expect(endpointLifetimeSeconds(path)).toBe(33.7);
    expect(
      endpointLifetimeSeconds([
        ...path.slice(0, 4),
        { state: 'CleanUpAfterFailure', status: 'succeeded', durationMs: 600 },
      ]),
    ).toBe(33);
  });

  test('is unknown before cleanup has run or without an execution path', () => {
    expect(endpointLifetimeSeconds(path.slice(0, 4))).toBeNull();
    expect(endpointLifetimeSeconds(undefined)).toBeNull();
  });

  test('costFromRun takes instance types and counts from the run configuration', () => {
    const run = {
      training: { instanceType: 'ml.m5.xlarge', instanceCount: 2 },
      hosting: { instanceType: 'ml.t2.medium', instanceCount: 1 },
    };
    expect(costFromRun(run, 120, path)).toEqual({
      training: { instanceType: 'ml.m5.xlarge', instanceCount: 2, seconds: 120 },
      endpoint: { instanceType: 'ml.t2.medium', instanceCount: 1, seconds: 33.7 },
    });
    expect(costFromRun(run, undefined).training.seconds).toBeNull();
  });
});
