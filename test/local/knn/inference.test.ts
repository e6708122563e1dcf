import {
  InferenceInputError,
  formatInferenceResponse,
  parseAcceptHeader,
  parseInferenceRequest,
} from '../../../local/knn/inference';

const body = (text: string): Uint8Array => new TextEncoder().encode(text);

function rowsOf(parsed: { data: Float32Array; count: number }, dim: number): number[][] {
  return Array.from({ length: parsed.count }, (_, i) => Array.from(parsed.data.subarray(i * dim, (i + 1) * dim)));
}

function inputError(run: () => unknown): InferenceInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InferenceInputError);
    expect((error as Error).name).toBe('InferenceInputError');
    return error as InferenceInputError;
  }
  throw new Error('expected an InferenceInputError');
}

describe('parseInferenceRequest', () => {
  test('text/csv: features only, one row per line', () => {
    const parsed = parseInferenceRequest(body('1.5,2,3\r\n-4,5e-1,6\n'), 'text/csv', 3);
    expect(parsed.data).toBeInstanceOf(Float32Array);
    expect(rowsOf(parsed, 3)).toEqual([
      [1.5, 2, 3],
      [-4, 0.5, 6],
    ]);
  });

  test('text/csv accepts label_size=0 and a utf-8 charset, but not a label column', () => {
    expect(parseInferenceRequest(body('1,2'), 'text/csv; label_size=0; charset=utf-8', 2).count).toBe(1);
    expect(inputError(() => parseInferenceRequest(body('1,2'), 'text/csv;label_size=1', 1)).message).toMatch(
      /label_size must be 0/,
    );
  });

  test('application/json: both instance forms, in order', () => {
    const request = {
      instances: [{ features: [3.0, 0.1, 0.04, 0.002] }, { data: { features: { values: [-3, -1, -4, 2] } } }],
    };
    const parsed = parseInferenceRequest(body(JSON.stringify(request)), 'application/json', 4);
    expect(rowsOf(parsed, 4)).toEqual([
      [3, Math.fround(0.1), Math.fround(0.04), Math.fround(0.002)],
      [-3, -1, -4, 2],
    ]);
  });

  test('application/json: a sparse instance becomes a dense row', () => {
    const request = { instances: [{ data: { features: { keys: [0, 3], values: [1.5, 2], shape: [4] } } }] };
    expect(rowsOf(parseInferenceRequest(body(JSON.stringify(request)), 'application/json', 4), 4)).toEqual([
      [1.5, 0, 0, 2],
    ]);
  });

  test('application/jsonlines: one record per line, blank lines skipped', () => {
    const text = '{"features":[1,2]}\n\n{"data":{"features":{"values":[3,4]}}}\n';
    expect(rowsOf(parseInferenceRequest(body(text), 'application/jsonlines', 2), 2)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  test.each([
    ['text/csv', '1,2,3\n4,5\n', /row 2/],
    ['text/csv', '1,2\n3,4\n', /Row 1 has 2 features, expected 3 \(feature_dim\)/],
    ['text/csv', '1,x,3\n', /row 1, column 2: expected a finite number, got "x"/],
    [
      'application/json',
      '{"instances":[{"features":[1,2,3]},{"features":[1,2]}]}',
      /Instance 1 has 2 features, expected 3/,
    ],
    [
      'application/json',
      '{"instances":[{"features":[1,"2",3]}]}',
      /Instance 0 has a non-numeric value "2" at feature 2/,
    ],
    [
      'application/json',
      '{"instances":[{"features":[1,null,3]}]}',
      /Instance 0 has a non-numeric value null at feature 2/,
    ],
    ['application/json', '{"instances":[{"values":[1,2,3]}]}', /Instance 0 must be \{"features":\[…\]\}/],
    ['application/json', '{"instances":{"features":[1,2,3]}}', /"instances" must be an array/],
    ['application/json', '{"instances":[]}', /no records/],
    ['application/json', '{"instances":[', /Request body is not valid JSON/],
    ['application/jsonlines', '{"features":[1,2,3]}\n{"features":[1,2,3,4]}', /Line 2 has 4 features, expected 3/],
    ['application/jsonlines', '{"features":[1,2,3]}\nnot json', /Line 2 is not valid JSON/],
  ])('%s %p is rejected naming the record', (contentType, text, message) => {
    expect(inputError(() => parseInferenceRequest(body(text), contentType, 3)).message).toMatch(message);
  });

  test.each(['text/csv', 'application/json', 'application/jsonlines'])(
    '%s: an empty body is rejected',
    (contentType) => {
      expect(inputError(() => parseInferenceRequest(body(' \n'), contentType, 3)).message).toMatch(/empty/);
    },
  );

  test('an unsupported content type is rejected with the supported ones listed', () => {
    const message = inputError(() => parseInferenceRequest(body('1'), 'application/x-recordio-protobuf', 1)).message;
    expect(message).toContain('text/csv, application/json, application/jsonlines');
    expect(message).toContain('not implemented by the local emulator');
    expect(inputError(() => parseInferenceRequest(body('1'), 'text/plain', 1)).message).toMatch(
      /"text\/plain" is not supported/,
    );
  });

  test('content types are case-insensitive', () => {
    expect(parseInferenceRequest(body('{"features":[1]}'), 'Application/JSON; charset=UTF-8', 1).count).toBe(1);
  });

  test('a body that is not UTF-8 or not in a UTF-8 charset is rejected', () => {
    expect(inputError(() => parseInferenceRequest(new Uint8Array([0xff, 0x31]), 'text/csv', 1)).message).toMatch(
      /UTF-8/,
    );
    expect(inputError(() => parseInferenceRequest(body('1'), 'text/csv; charset=latin-1', 1)).message).toMatch(
      /charset/,
    );
  });
});

describe('formatInferenceResponse', () => {
  const predictions = [
    { predicted_label: 2, labels: [2, 2, 1], distances: [0, Math.fround(0.1), 0.25] },
    { predicted_label: 0.5, labels: [0, 1, 1e-5], distances: [1, 2, 3] },
  ];

  test('application/json by default, labels as floats', () => {
    const expected = {
      body: '{"predictions":[{"predicted_label":2.0},{"predicted_label":0.5}]}',
      contentType: 'application/json',
    };
    expect(formatInferenceResponse(predictions, undefined)).toEqual(expected);
    expect(formatInferenceResponse(predictions, 'application/json')).toEqual(expected);
    expect(formatInferenceResponse(predictions, '*/*')).toEqual(expected);
  });

  test('application/jsonlines: one object per line', () => {
    expect(formatInferenceResponse(predictions, 'application/jsonlines')).toEqual({
      body: '{"predicted_label":2.0}\n{"predicted_label":0.5}',
      contentType: 'application/jsonlines',
    });
  });

  test('verbose=true adds neighbour labels and distances', () => {
    const { body: text, contentType } = formatInferenceResponse(predictions, 'application/json; verbose=true');
    expect(contentType).toBe('application/json');
    expect(text).toBe(
      '{"predictions":[{"predicted_label":2.0,"labels":[2.0,2.0,1.0],"distances":[0.0,0.10000000149011612,0.25]},' +
        '{"predicted_label":0.5,"labels":[0.0,1.0,1e-05],"distances":[1.0,2.0,3.0]}]}',
    );
    expect(JSON.parse(text).predictions[0].labels).toEqual([2, 2, 1]);
    expect(formatInferenceResponse(predictions, 'application/jsonlines;verbose=true').body.split('\n')[1]).toBe(
      '{"predicted_label":0.5,"labels":[0.0,1.0,1e-05],"distances":[1.0,2.0,3.0]}',
    );
    expect(formatInferenceResponse(predictions, 'application/json; verbose=false').body).not.toContain('labels');
  });

  test('parseAcceptHeader tells the server, before predicting, what to produce', () => {
    expect(parseAcceptHeader(undefined)).toEqual({ contentType: 'application/json', verbose: false });
    expect(parseAcceptHeader('application/jsonlines; verbose=TRUE')).toEqual({
      contentType: 'application/jsonlines',
      verbose: true,
    });
    expect(() => parseAcceptHeader('application/x-recordio-protobuf')).toThrow(InferenceInputError);
  });

  test('picks the first supported type from a list', () => {
    expect(formatInferenceResponse(predictions, 'text/html, application/jsonlines').contentType).toBe(
      'application/jsonlines',
    );
  });

  test('an unsupported Accept or verbose value is rejected', () => {
    expect(inputError(() => formatInferenceResponse(predictions, 'text/csv')).message).toMatch(
      /Accept "text\/csv" is not supported/,
    );
    expect(inputError(() => formatInferenceResponse(predictions, 'application/json; verbose=yes')).message).toMatch(
      /verbose/,
    );
  });
});
