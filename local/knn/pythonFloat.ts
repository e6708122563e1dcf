/**
 * How the real (Python) container prints a float64: `repr(x)` in log lines and `json.dumps` in responses.
 * JavaScript finds the same shortest round-trip digits, but places the exponent switch and the ".0" differently
 * (JS `String(1e-5)` is "0.00001", Python says "1e-05"; JS `String(2)` is "2", Python says "2.0").
 */

/** Python's `repr(float(x))`: shortest round-trip digits, positional for 1e-4 ≤ |x| < 1e16, else `1.5e-05` style. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';

  const sign = value < 0 ? '-' : '';
  // toExponential() without an argument yields the shortest digits that round-trip, e.g. "9.736842105263158e-1".
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);

  if (exponent < -4 || exponent >= 16) {
    const scientificMantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    return `${sign}${scientificMantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const integerDigits = exponent + 1;
  if (digits.length <= integerDigits) return `${sign}${digits}${'0'.repeat(integerDigits - digits.length)}.0`;
  return `${sign}${digits.slice(0, integerDigits)}.${digits.slice(integerDigits)}`;
}

/** Python's `json.dumps(float(x))`: the repr, with NaN / Infinity / -Infinity spelled as Python's json module does. */
export function pythonJsonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return pythonFloatRepr(value);
}
