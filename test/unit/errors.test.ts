import { CleanupIncompleteError } from '../../src/aws/cleanup';
import { ObjectReadError } from '../../src/aws/objects';
import { ConfigurationError } from '../../src/config/stage';
import { DatasetError } from '../../src/domain/dataset';
import { DatasetNotFoundError, DatasetTooLargeError, EvaluationError } from '../../src/domain/errors';
import { MetricsError } from '../../src/domain/metrics';
import { SeedError } from '../../src/domain/random';
import { InputValidationError } from '../../src/domain/runConfig';
import { SplitError } from '../../src/domain/split';
import { PipelineError, toError } from '../../src/errors';

test.each([
  [new DatasetNotFoundError('m'), 'DatasetNotFoundError'],
  [new DatasetTooLargeError('m'), 'DatasetTooLargeError'],
  [new EvaluationError('m'), 'EvaluationError'],
  [new DatasetError('s3://b/k', []), 'DatasetError'],
  [new InputValidationError(['x: bad']), 'InputValidationError'],
  [new SplitError('m'), 'SplitError'],
  [new MetricsError('m'), 'MetricsError'],
  [new SeedError('m'), 'SeedError'],
  [new ConfigurationError('m'), 'ConfigurationError'],
  [new CleanupIncompleteError('m'), 'CleanupIncompleteError'],
  [new ObjectReadError('m'), 'ObjectReadError'],
])('%s keeps the name Step Functions matches (%s) and is a PipelineError', (error, name) => {
  expect(error.name).toBe(name);
  expect(error).toBeInstanceOf(PipelineError);
  expect(error).toBeInstanceOf(Error);
});

test('a wrapped error keeps its cause', () => {
  const cause = new Error('socket hang up');
  expect(new EvaluationError('endpoint unreachable', { cause }).cause).toBe(cause);
  expect(new CleanupIncompleteError('still Updating', { cause }).cause).toBe(cause);
});

test('toError passes Errors through and wraps anything else with the value as cause', () => {
  const error = new SplitError('x');
  expect(toError(error)).toBe(error);
  expect(toError('boom')).toMatchObject({
    name: 'PipelineError',
    message: 'Non-Error value thrown: boom',
    cause: 'boom',
  });
});
