import { readFileSync } from 'node:fs';
import path from 'node:path';
import aslValidator from 'asl-validator';
import { forEachState, loadDefinition, type AslState } from '../../statemachine/definition';
import { MAX_TRAINING_RUNTIME_SECONDS } from '../../src/domain/runConfig';
import { classifySageMakerError } from '../../src/domain/capacity';

const FILE = path.resolve(__dirname, '../../statemachine/pipeline.asl.json');
const ARN = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:knn-pipeline-dev-${name.toLowerCase()}`;
const definition = loadDefinition(
  Object.fromEntries(
    ['Prepare', 'Split', 'Tuning', 'Upload', 'Tuning', 'Evaluate', 'Promote', 'Cleanup', 'Report', 'Capacity'].map(
      (n) => [`${n}FunctionArn`, ARN(n)],
    ),
  ),
);
const states = definition.States;
const CLEANUP_STATES = new Set(['CleanUp', 'CleanUpAfterFailure']);

/** Where control can go next from a state: Next, Choices, Default and Catch targets. */
function successors(state: AslState): string[] {
  return [
    state.Next,
    state.Default,
    ...(state.Choices ?? []).map((choice) => choice.Next),
    ...(state.Catch ?? []).map((catcher) => catcher.Next),
  ].filter((name): name is string => Boolean(name));
}

function reachable(from: string, blocked: Set<string> = new Set()): Set<string> {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name) || blocked.has(name)) continue;
    seen.add(name);
    stack.push(...successors(states[name]));
  }
  return seen;
}

const isTerminal = (state: AslState) => state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true;

test('the definition is valid Amazon States Language', () => {
  const { isValid, errorsText } = aslValidator(definition);
  expect(errorsText ? errorsText('\n') : '').toBe('');
  expect(isValid).toBe(true);
});

test('the file keeps only the documented placeholders and uses JSONPath, not JSONata', () => {
  const text = readFileSync(FILE, 'utf8');
  const placeholders = new Set(text.match(/\$\{[^}]+\}/g));
  expect([...placeholders].sort()).toEqual(
    ['Capacity', 'Cleanup', 'Evaluate', 'Prepare', 'Promote', 'Report', 'Split', 'Tuning', 'Upload'].map(
      (n) => `\${self:custom.asl.${n}FunctionArn}`,
    ),
  );
  expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  forEachState(definition, (_name, state) => expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath'));
});

test('from Train onwards, no path reaches the end of the execution without passing through Cleanup', () => {
  const afterTrain = reachable('Train');
  const withoutCleanup = reachable('Train', CLEANUP_STATES);
  const escapes = [...withoutCleanup].filter((name) => isTerminal(states[name]));
  expect(escapes).toEqual([]);
  // And both cleanup paths are actually reachable.
  expect(afterTrain.has('CleanUp')).toBe(true);
  expect(afterTrain.has('CleanUpAfterFailure')).toBe(true);
});

test('every Task from Split onwards catches all errors into the cleanup path, recording which state failed', () => {
  for (const name of reachable('Split')) {
    const state = states[name];
    // Report runs after cleanup; a report that cannot be written must not fail the run, so it goes on to the gate.
    if (name === 'Report') {
      expect(state.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.reportFailure', Next: 'QualityGate' },
      ]);
      continue;
    }
    if (state.Type !== 'Task' || CLEANUP_STATES.has(name)) continue;
    const catchAll = (state.Catch ?? []).find((c) => c.ErrorEquals.includes('States.ALL'));
    expect({ name, next: catchAll?.Next, resultPath: catchAll?.ResultPath }).toEqual({
      name,
      next: 'CleanUpAfterFailure',
      resultPath: `$.failure.${name}`,
    });
  }
});

test('every Task has a timeout and Lambda/SageMaker Tasks retry transient service errors', () => {
  forEachState(definition, (name, state) => {
    if (state.Type !== 'Task') return;
    expect({ name, timeout: Boolean(state.TimeoutSeconds || state.TimeoutSecondsPath) }).toEqual({
      name,
      timeout: true,
    });
    const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
    if (state.Resource.startsWith('arn:aws:lambda:')) expect(retried).toContain('Lambda.ServiceException');
    if (!state.Resource.startsWith('arn:aws:states:::sagemaker:')) return;
    // A Task that takes instances waits in the capacity queue instead of retrying (README "Bursts and quotas").
    const caught = (state.Catch ?? []).find((c) => c.ErrorEquals.includes('SageMaker.AmazonSageMakerException'));
    if (caught) expect({ name, next: caught.Next }).toEqual({ name, next: `Is${name}ErrorTransient` });
    else expect(retried).toContain('SageMaker.AmazonSageMakerException');
  });
});

/** The subset of a JSONPath Choice rule these Choices use: Or, And, StringEquals, StringMatches, NumericLessThan. */
function matches(rule: Record<string, unknown>, input: Record<string, unknown>): boolean {
  if (rule.Or) return (rule.Or as Record<string, unknown>[]).some((r) => matches(r, input));
  if (rule.And) return (rule.And as Record<string, unknown>[]).every((r) => matches(r, input));
  const value = input[rule.Variable as string];
  if ('StringEquals' in rule) return value === rule.StringEquals;
  if ('StringMatches' in rule) {
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`^${(rule.StringMatches as string).split('*').map(escape).join('.*')}$`, 's');
    return typeof value === 'string' && pattern.test(value);
  }
  if ('NumericLessThan' in rule) return typeof value === 'number' && value < (rule.NumericLessThan as number);
  throw new Error(`unexpected Choice rule ${JSON.stringify(rule)}`);
}

test("every Is<Task>ErrorTransient Choice agrees with the domain's reading of SageMaker's error codes", () => {
  const cause = (code: string, message = 'm') =>
    `${message} (Service: AmazonSageMaker; Status Code: 400; Error Code: ${code}; Request ID: r; Proxy: null)`;
  const errors = [
    ...['ResourceLimitExceeded', 'ThrottlingException', 'Throttling', 'ServiceUnavailable', 'InternalFailure'],
    ...['ValidationException', 'AccessDeniedException', 'ResourceInUse'],
  ].map((code) => ({ Error: 'SageMaker.AmazonSageMakerException', Cause: cause(code) }));
  errors.push({ Error: 'SageMaker.ResourceLimitExceededException', Cause: 'limit' });
  const busy = cause('ValidationException', 'Cannot update in-progress endpoint "arn:…:endpoint/knn--serving".');
  errors.push({ Error: 'SageMaker.AmazonSageMakerException', Cause: busy });
  let checked = 0;
  forEachState(definition, (name, state) => {
    if (!/^Is\w+ErrorTransient$/.test(name)) return;
    checked += 1;
    const [rule] = state.Choices!;
    for (const error of errors) {
      const kind = classifySageMakerError(error);
      if (rule.Next.startsWith('Await')) {
        // Takes instances: quota (and a busy serving endpoint, where the Choice names it) and throttling wait.
        const input = { '$.capacity.lastError.Error': error.Error, '$.capacity.lastError.Cause': error.Cause };
        const busyAllowed = name.includes('ServingEndpoint') || error.Cause !== busy;
        expect({ name, cause: error.Cause, waits: matches(rule, input) }).toEqual({
          name,
          cause: error.Cause,
          waits: kind !== 'permanent' && busyAllowed,
        });
      } else {
        // A request-response call: throttling alone gets a short backoff, while its budget lasts.
        const task = name.slice('Is'.length, -'ErrorTransient'.length);
        const input = { '$.throttling.lastError.Cause': error.Cause, [`$.throttling.${task}.count`]: 0 };
        expect({ name, cause: error.Cause, retries: matches(rule, input) }).toEqual({
          name,
          cause: error.Cause,
          retries: kind === 'throttled',
        });
        expect(matches(rule, { ...input, [`$.throttling.${task}.count`]: 5 })).toBe(false);
        expect(rule.Next).toBe(`BackOff${task}`);
      }
    }
  });
  // TrainFold, Tune, Train, Transform, CreateEndpoint and both serving calls; CreateModel and three config calls.
  expect(checked).toBe(11);
  // Two runs that both found no stable endpoint: the one whose create comes second updates it instead.
  const busyCreate = {
    '$.capacity.lastError.Cause': cause(
      'ValidationException',
      'Cannot create already existing endpoint "arn:…:endpoint/knn--serving".',
    ),
  };
  const [, secondCreate] = states.IsCreateServingEndpointErrorTransient.Choices!;
  expect(matches(secondCreate, busyCreate)).toBe(true);
  expect(secondCreate.Next).toBe('QueueUpdateServingEndpoint');
});

test('training uses the native .sync integration and the endpoint wait loop is bounded', () => {
  expect(states.Train.Resource).toBe('arn:aws:states:::sagemaker:createTrainingJob.sync');
  // Each SageMaker create call passes the request Prepare built (src/domain/sageMakerRequests.ts) unchanged.
  // Train's request comes from Upload: feature_dim is the width of the rows the channels hold (a feature transform's).
  expect(states.Train.InputPath).toBe('$.channels.trainingJob');
  expect(states.CreateModel.InputPath).toBe('$.run.requests.model');
  expect(states.CreateEndpointConfig.InputPath).toBe('$.run.requests.endpointConfig');
  expect(states.CreateEndpoint.InputPath).toBe('$.run.requests.endpoint');
  expect(states.CrossValidate.ItemProcessor!.States.TrainFold.InputPath).toBe('$.fold.request');
  const loop = reachable(
    'WaitForEndpoint',
    new Set(['Evaluate', 'EndpointFailed', 'EndpointNotReadyInTime', 'CleanUpAfterFailure']),
  );
  expect([...loop].sort()).toEqual(['CountEndpointPoll', 'DescribeEndpoint', 'IsEndpointInService', 'WaitForEndpoint']);
  expect(states.IsEndpointInService.Choices!.map((c) => c.Next)).toEqual([
    'Evaluate',
    'EndpointFailed',
    'EndpointNotReadyInTime',
  ]);
});

test('after CreateModel a Choice on the evaluation mode: endpoint (default), serverless, batch transform', () => {
  expect(states.CreateModel.Next).toBe('EvaluationMode');
  expect(states.EvaluationMode).toMatchObject({
    Type: 'Choice',
    Choices: [
      { Variable: '$.run.evaluation.mode', StringEquals: 'batchTransform', Next: 'QueueTransform' },
      { Variable: '$.run.evaluation.mode', StringEquals: 'serverless', Next: 'CreateServerlessEndpointConfig' },
    ],
    Default: 'CreateEndpointConfig',
  });
  // The instance endpoint path queues for endpoint capacity first.
  expect(states.CreateEndpointConfig.Next).toBe('QueueCreateEndpoint');
  // Serverless: its own config request, then the same endpoint and InService wait as an instance endpoint.
  expect(states.CreateServerlessEndpointConfig).toMatchObject({
    Type: 'Task',
    Resource: 'arn:aws:states:::sagemaker:createEndpointConfig',
    InputPath: '$.run.requests.serverlessEndpointConfig',
    Next: 'QueueCreateEndpoint',
  });
  expect(reachable('CreateServerlessEndpointConfig').has('IsEndpointInService')).toBe(true);
});

test('batchTransform: the native createTransformJob.sync straight to Evaluate, with no endpoint state on the way', () => {
  const transform = states.Transform;
  expect(transform).toMatchObject({
    Type: 'Task',
    Resource: 'arn:aws:states:::sagemaker:createTransformJob.sync',
    InputPath: '$.run.requests.transformJob',
    ResultPath: '$.transform',
    Next: 'Evaluate',
  });
  expect(transform.Catch).toEqual([
    {
      ErrorEquals: ['SageMaker.ResourceLimitExceededException', 'SageMaker.AmazonSageMakerException'],
      ResultPath: '$.capacity.lastError',
      Next: 'IsTransformErrorTransient',
    },
    { ErrorEquals: ['States.ALL'], ResultPath: '$.failure.Transform', Next: 'CleanUpAfterFailure' },
  ]);
  // Within the run's time budget: a training job may run 4 h (MAX_TRAINING_RUNTIME_SECONDS) of the execution's 6 h;
  // the transform gets at most 1 h of the rest, as the endpoint wait does (ENDPOINT_MAX_WAIT_SECONDS default).
  expect(transform.TimeoutSeconds).toBe(3600);
  expect(MAX_TRAINING_RUNTIME_SECONDS + transform.TimeoutSeconds!).toBeLessThan(definition.TimeoutSeconds!);
  const endpointStates = [
    'CreateEndpointConfig',
    'CreateServerlessEndpointConfig',
    'CreateEndpoint',
    'DescribeEndpoint',
  ];
  const path = reachable('Transform', new Set(['Evaluate', 'CleanUpAfterFailure']));
  expect([...path].filter((name) => endpointStates.includes(name))).toEqual([]);
  expect(reachable('Transform').has('Evaluate')).toBe(true);
});
