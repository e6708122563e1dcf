import { decidePromotion } from '../../../src/domain/promotion';
import type { GateResult } from '../../../src/domain/evaluation';

const gate = (value: number, passed = true, direction: 'min' | 'max' = 'min'): GateResult => ({
  metric: direction === 'min' ? 'accuracy' : 'rmse',
  threshold: 0.9,
  direction,
  value,
  passed,
  message: passed ? 'passed' : 'not met',
});

test('off: nothing to decide', () => {
  expect(decidePromotion(false, gate(0.95), {}, 'p-serving').decision).toBe('off');
});

test('a model that fails the gate is never promoted', () => {
  expect(decidePromotion(true, gate(0.5, false), {}, 'p-serving')).toMatchObject({ decision: 'gate-failed' });
});

test('the first model that passes the gate creates the stable endpoint', () => {
  expect(decidePromotion(true, gate(0.95), {}, 'p-serving')).toMatchObject({ decision: 'create', champion: null });
});

test('better or equal promotes, worse keeps the champion; direction follows the metric', () => {
  expect(decidePromotion(true, gate(0.95), { status: 'InService', value: 0.93, configName: 'old' }, 'p')).toMatchObject(
    {
      decision: 'promote',
      previousConfig: 'old',
    },
  );
  expect(decidePromotion(true, gate(0.93), { status: 'InService', value: 0.93 }, 'p').decision).toBe('promote');
  expect(decidePromotion(true, gate(0.91), { status: 'InService', value: 0.93 }, 'p')).toMatchObject({
    decision: 'keep',
    reason: expect.stringMatching(/^Kept the champion: accuracy 0.91 vs 0.93/),
  });
  expect(decidePromotion(true, gate(1.2, true, 'max'), { status: 'InService', value: 1.5 }, 'p').decision).toBe(
    'promote',
  );
  expect(decidePromotion(true, gate(1.8, true, 'max'), { status: 'InService', value: 1.5 }, 'p').decision).toBe('keep');
});

test('a stable endpoint that is not InService is left alone', () => {
  expect(decidePromotion(true, gate(0.99), { status: 'Updating' }, 'p')).toMatchObject({
    decision: 'keep',
    reason: expect.stringMatching(/is Updating and could not be compared/),
  });
});
