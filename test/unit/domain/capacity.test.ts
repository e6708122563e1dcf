import {
  classifySageMakerError,
  EVENTS_PER_POLL,
  HISTORY_EVENTS_FOR_WAITING,
  maxPollsPerClaim,
  nextWaitSeconds,
  parseLimitExceeded,
  quotaTooLowCause,
  parseTicketKey,
  ticketKey,
  type CapacitySettings,
} from '../../../src/domain/capacity';
import { claimsOf, EXECUTION_TIMEOUT_SECONDS, LAMBDA_STEPS_SECONDS, timeBudget } from '../../../src/domain/timeBudget';
import { loadDefinition } from '../../../statemachine/definition';
import { MAX_FOLDS } from '../../../src/domain/runConfig';

const SETTINGS: CapacitySettings = {
  maxQueueSeconds: 5400,
  initialDelaySeconds: 15,
  maxDelaySeconds: 300,
  maxPolls: 550,
  queuePrefix: 'runs/_capacity/',
};
const BUDGET = {
  trainingMaxRuntimeSeconds: 3600,
  folds: 0,
  foldConcurrency: 2,
  evaluationMode: 'endpoint' as const,
  endpointMaxWaitSeconds: 3600,
  serve: false,
  capacity: { maxQueueSeconds: 10_800, initialDelaySeconds: 15, maxDelaySeconds: 300 },
};

test('the error code in the Cause decides: quota waits, throttling retries briefly, everything else is permanent', () => {
  const cause = (code: string) =>
    `m (Service: AmazonSageMaker; Status Code: 400; Error Code: ${code}; Request ID: r; Proxy: null)`;
  expect(classifySageMakerError({ Error: 'SageMaker.ResourceLimitExceededException', Cause: 'x' })).toBe('capacity');
  expect(
    classifySageMakerError({ Error: 'SageMaker.AmazonSageMakerException', Cause: cause('ResourceLimitExceeded') }),
  ).toBe('capacity');
  expect(
    classifySageMakerError({ Error: 'SageMaker.AmazonSageMakerException', Cause: cause('ThrottlingException') }),
  ).toBe('throttled');
  expect(
    classifySageMakerError({ Error: 'SageMaker.AmazonSageMakerException', Cause: cause('ValidationException') }),
  ).toBe('permanent');
  expect(
    classifySageMakerError({ Error: 'SageMaker.AmazonSageMakerException', Cause: cause('AccessDeniedException') }),
  ).toBe('permanent');
  // Another run's update of the serving endpoint: waiting in the queue helps, as for a quota.
  const busy = 'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:1:endpoint/knn--serving".';
  expect(
    classifySageMakerError({ Error: 'SageMaker.AmazonSageMakerException', Cause: cause('x').replace('m', busy) }),
  ).toBe('capacity');
});

test("a tuning job's claim names its parallel training jobs when the quota is below them, and what to lower", () => {
  const claim = {
    scope: 'training' as const,
    resource: 'knn--0123abcd-5f3e2a1b',
    instanceType: 'ml.m5.large',
    instanceCount: 2,
    parallelJobs: 3,
  };
  expect(quotaTooLowCause(claim, 4, 6)).toBe(
    "knn--0123abcd-5f3e2a1b needs 6 × ml.m5.large (3 training jobs at once of 2 each), and the account's quota " +
      "'ml.m5.large for training job usage' is 4 Instances: waiting cannot help. Raise the quota in Service Quotas " +
      '(service SageMaker) or lower tuning.maxParallelJobs, or use fewer or other instances',
  );
});

test("SageMaker's ResourceLimitExceeded message gives the quota, the usage and the request", () => {
  expect(
    parseLimitExceeded(
      "The account-level service limit 'ml.m5.large for endpoint usage' is 2 Instances, with current utilization of 1 Instances and a request delta of 3 Instances. Please contact AWS support to request an increase for this limit.",
    ),
  ).toEqual({ limit: 2, current: 1, delta: 3 });
  expect(parseLimitExceeded('Rate exceeded')).toBeUndefined();
});

test('ticket keys sort by the time a claim joined, whatever the run id, and read back', () => {
  const claim = (resource: string) => ({
    scope: 'training' as const,
    resource,
    instanceType: 'ml.m5.large',
    instanceCount: 1,
  });
  const early = ticketKey(SETTINGS, claim('knnp--zzz'), {
    enqueuedAt: 999,
    deadline: 5,
    runId: 'zzz',
    resource: 'knnp--zzz',
  });
  const late = ticketKey(SETTINGS, claim('knnp--aaa'), {
    enqueuedAt: 1000,
    deadline: 5,
    runId: 'aaa',
    resource: 'knnp--aaa',
  });
  expect([late, early].sort()).toEqual([early, late]);
  expect(parseTicketKey(early)).toEqual({ enqueuedAt: 999, deadline: 5, runId: 'zzz', resource: 'knnp--zzz' });
});

test('the backoff doubles up to its cap with jitter, and never polls faster than the share allows', () => {
  const floor = SETTINGS.maxQueueSeconds / SETTINGS.maxPolls;
  for (const random of [0, 0.5, 0.999]) {
    for (let polls = 0; polls < 40; polls++) {
      const wait = nextWaitSeconds(polls, SETTINGS, () => random);
      expect(wait).toBeGreaterThanOrEqual(floor);
      expect(wait).toBeLessThanOrEqual(SETTINGS.maxDelaySeconds);
    }
  }
  expect(nextWaitSeconds(0, SETTINGS, () => 0.999)).toBeLessThan(nextWaitSeconds(10, SETTINGS, () => 0.999));
});

test('the history stays under 25,000 events for every run shape, folds included', () => {
  // Events outside the waiting loops, 20 folds and serving: each state and each fold's states once, 5 events each.
  const definition = loadDefinition(
    Object.fromEntries(
      ['Prepare', 'Split', 'Upload', 'Tuning', 'Evaluate', 'Promote', 'Cleanup', 'Report', 'Capacity'].map((n) => [
        `${n}FunctionArn`,
        `arn:aws:lambda:us-east-1:123456789012:function:${n}`,
      ]),
    ),
  );
  const states = Object.keys(definition.States).length;
  const foldStates = Object.keys(
    (definition.States.CrossValidate as unknown as { ItemProcessor: { States: object } }).ItemProcessor.States,
  ).length;
  // ≤ 5 events per state visit, endpoint polls, and each throttled request's 5 retries (Task, Choice, Pass, Wait).
  const throttledRetries = 4 * 5 * (5 + 2 + 2 + 2);
  const baseEvents = 5 * (states + MAX_FOLDS * foldStates) + 200 + throttledRetries;
  expect(baseEvents + HISTORY_EVENTS_FOR_WAITING).toBeLessThanOrEqual(25_000);
  for (let folds = 0; folds <= MAX_FOLDS; folds++) {
    for (const evaluationMode of ['endpoint', 'serverless', 'batchTransform'] as const) {
      for (const serve of [false, true]) {
        for (const tuningMaxRuntimeSeconds of [undefined, 3600]) {
          const claims = claimsOf({ folds, evaluationMode, serve, tuningMaxRuntimeSeconds });
          expect(claims * maxPollsPerClaim(claims) * EVENTS_PER_POLL).toBeLessThanOrEqual(HISTORY_EVENTS_FOR_WAITING);
        }
      }
    }
  }
});

test('one time budget: the parts fit the execution, the queue gets what is left, an impossible budget names its parts', () => {
  const budget = timeBudget(BUDGET);
  expect(budget).toMatchObject({
    executionSeconds: EXECUTION_TIMEOUT_SECONDS,
    queueSeconds: 10_800,
    queueSecondsPerClaim: 5400,
  });
  if (typeof budget === 'string') throw new Error(budget);
  expect(
    budget.lambdaSeconds + budget.trainingSeconds + budget.evaluationSeconds + budget.queueSeconds,
  ).toBeLessThanOrEqual(EXECUTION_TIMEOUT_SECONDS);
  // Five folds: three waves and the final job leave less to wait.
  const folds = timeBudget({ ...BUDGET, folds: 5 });
  expect(folds).toMatchObject({
    trainingSeconds: 4 * 3600,
    queueSeconds: 21_600 - LAMBDA_STEPS_SECONDS - 4 * 3600 - 3600,
  });
  expect(timeBudget({ ...BUDGET, folds: 10 })).toMatch(/^time budget: .*6 training jobs in sequence of up to 3600 s/);
});

test('the definition and the budget agree: execution timeout, Lambda steps, training Tasks', () => {
  const definition = loadDefinition(
    Object.fromEntries(
      ['Prepare', 'Split', 'Upload', 'Tuning', 'Evaluate', 'Promote', 'Cleanup', 'Report', 'Capacity'].map((n) => [
        `${n}FunctionArn`,
        `arn:aws:lambda:us-east-1:123456789012:function:${n}`,
      ]),
    ),
  );
  expect(definition.TimeoutSeconds).toBe(EXECUTION_TIMEOUT_SECONDS);
  const timeout = (name: string) => (definition.States[name] as { TimeoutSeconds: number }).TimeoutSeconds;
  expect(
    ['Prepare', 'Split', 'Upload', 'Evaluate', 'RecordPromotion', 'CleanUp', 'Report']
      .map(timeout)
      .reduce((a, b) => a + b),
  ).toBe(LAMBDA_STEPS_SECONDS);
});
