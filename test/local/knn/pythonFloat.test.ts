import { pythonFloatRepr, pythonJsonFloat } from '../../../local/knn/pythonFloat';

describe('pythonFloatRepr', () => {
  test.each([
    [0.9736842105263158, '0.9736842105263158'],
    [2, '2.0'],
    [-3, '-3.0'],
    [0, '0.0'],
    [-0, '-0.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e15, '1000000000000000.0'],
    [1e16, '1e+16'],
    [1.2345e22, '1.2345e+22'],
    [123.456, '123.456'],
    [Math.fround(0.1), '0.10000000149011612'],
    [Number.NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ])('%p is written %p', (value, expected) => {
    expect(pythonFloatRepr(value)).toBe(expected);
  });

  test('json.dumps spells the non-finite values NaN / Infinity', () => {
    expect(pythonJsonFloat(Number.NaN)).toBe('NaN');
    expect(pythonJsonFloat(-Infinity)).toBe('-Infinity');
    expect(pythonJsonFloat(1)).toBe('1.0');
  });
});
