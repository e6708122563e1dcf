import {
  applyJsonPath,
  DataProcessingError,
  formatCsvRecord,
  formatRecord,
  joinRecord,
  parseCsvRecord,
  parseJsonPath,
  predictionTexts,
  RawJson,
  toJsonText,
} from '../../local/sagemaker/dataProcessing';

const row = ['id-7', '5.1', '3.5', '1.4', '0.2'];
const select = (path: string, value: unknown = row) => applyJsonPath(parseJsonPath(path), value, 'record');
const error = (run: () => unknown) => {
  try {
    run();
  } catch (caught) {
    expect(caught).toBeInstanceOf(DataProcessingError);
    return (caught as Error).message;
  }
  throw new Error('expected a DataProcessingError');
};

describe('transform-job DataProcessing', () => {
  test('index JSONPaths on a CSV row: $, single indexes, lists, negative indexes, slices (end exclusive)', () => {
    expect(parseJsonPath(undefined).isRoot).toBe(true);
    expect(select('$')).toEqual(row);
    expect(select('$[0]')).toBe('id-7');
    expect(select('$[-1]')).toBe('0.2');
    expect(select('$[0,-1]')).toEqual(['id-7', '0.2']);
    expect(select('$[1:]')).toEqual(['5.1', '3.5', '1.4', '0.2']);
    expect(select('$[:2]')).toEqual(['id-7', '5.1']);
    expect(select('$[1:3]')).toEqual(['5.1', '3.5']);
    expect(select('$[-2:]')).toEqual(['1.4', '0.2']);
    expect(select('$[3:99]')).toEqual(['1.4', '0.2']); // slices are clamped
    expect(select('$[0,3:]')).toEqual(['id-7', '1.4', '0.2']); // one range with indexes ("$[0,5:]")
    expect(parseJsonPath('$[1:]').indexOnly).toBe(true);
    expect(parseJsonPath('$.features').indexOnly).toBe(false);
  });

  test('what SageMaker refuses: two ranges (its own message), an index outside the record, bad syntax', () => {
    expect(error(() => parseJsonPath('$[0:2,246:]'))).toBe(
      'Invalid JsonPath: $[0:2,246:]: only single range filters of format (eg: [1:5]) are supported. Format [0:2,246:] is not supported',
    );
    expect(error(() => select('$[5]'))).toBe('$[5] cannot be applied to the record: index 5 is outside its 5 elements');
    expect(error(() => select('$[-6]'))).toMatch(/index -6 is outside/);
    expect(error(() => parseJsonPath('features'))).toMatch(/^Invalid JsonPath: features:/);
    expect(error(() => parseJsonPath('$[a]'))).toMatch(/^Invalid JsonPath: \$\[a\]:/);
  });

  test('attribute JSONPaths on JSON records', () => {
    const record = {
      id: 3,
      features: [1, 2],
      nested: { a: 1 },
      SageMakerOutput: new RawJson('{"predicted_label":1.0}'),
    };
    expect(select('$.features', record)).toEqual([1, 2]);
    expect(select('$.nested.a', record)).toBe(1);
    expect(select("$['id']", record)).toBe(3);
    expect(toJsonText(select("$['id','SageMakerOutput']", record))).toBe(
      '{"id":3,"SageMakerOutput":{"predicted_label":1.0}}',
    );
    expect(select('$.features[-1]', record)).toBe(2);
    expect(select('$.nested.*', record)).toEqual([1]);
    expect(error(() => select('$.missing', record))).toBe(
      '$.missing cannot be applied to the record: it has no attribute "missing"',
    );
  });

  test('CSV records: quoted fields in, RFC 4180 quoting out', () => {
    expect(parseCsvRecord('a,"b,c","d ""q""",')).toEqual(['a', 'b,c', 'd "q"', '']);
    expect(formatCsvRecord(['a', 'b,c', 'd "q"', ''])).toBe('a,"b,c","d ""q""",');
    expect(error(() => parseCsvRecord('"open'))).toMatch(/unterminated quoted field/);
    expect(formatRecord('0.2', 'csv')).toBe('0.2'); // a single selected cell is a row of one
  });

  test('JoinSource Input: CSV appends the answer as the last cell; JSON adds SageMakerOutput or wraps', () => {
    const answer = new RawJson('{"predicted_label":2.0}');
    expect(formatRecord(joinRecord(['1', '5.1'], answer, 'csv'), 'csv')).toBe('1,5.1,"{""predicted_label"":2.0}"');
    expect(formatRecord(joinRecord({ id: 1 }, answer, 'json'), 'json')).toBe(
      '{"id":1,"SageMakerOutput":{"predicted_label":2.0}}',
    );
    expect(formatRecord(joinRecord([5.1, 3.5], answer, 'json'), 'json')).toBe(
      '{"SageMakerInput":[5.1,3.5],"SageMakerOutput":{"predicted_label":2.0}}',
    );
  });

  test('an application/json answer splits into its predictions, formatting kept', () => {
    expect(
      predictionTexts(
        '{"predictions":[{"predicted_label":0.0},{"predicted_label":2.0,"labels":[2.0,1.0],"distances":[0.0,1.5]}]}',
      ),
    ).toEqual(['{"predicted_label":0.0}', '{"predicted_label":2.0,"labels":[2.0,1.0],"distances":[0.0,1.5]}']);
    expect(predictionTexts('{"predictions":[]}')).toEqual([]);
    expect(error(() => predictionTexts('{"other":1}'))).toBe('the model response has no "predictions" array');
  });
});
