import { candidateKeys } from '../../../src/domain/objectKeys';

test.each([
  ['raw/iris.csv', ['raw/iris.csv']],
  ['raw/my data.csv', ['raw/my data.csv']],
  ['raw/my+data.csv', ['raw/my+data.csv', 'raw/my data.csv']],
  ['raw/a%2Bb.csv', ['raw/a%2Bb.csv', 'raw/a+b.csv']],
  ['raw/caf%C3%A9.csv', ['raw/caf%C3%A9.csv', 'raw/café.csv']],
  ['raw/café 100%.csv', ['raw/café 100%.csv']],
])('key %j as delivered is tried first, then its form-decoded reading', (delivered, expected) => {
  expect(candidateKeys(delivered)).toEqual(expected);
});
