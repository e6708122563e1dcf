// A transform job's DataProcessing (InputFilter, JoinSource, OutputFilter) on CSV and JSON Lines records, as the
// "Associate Prediction Results with Input Records" guide describes it (batch-transform-data-processing):
// - "For CSV data, each row is taken as a JSON array, so only index based JSONPaths can be applied, e.g. $[0], $[1:]";
// - JoinSource Input, CSV: "the joined input data is followed by the transformed data and the output is a CSV file"
//   ("if the record is [1,2,3], and the label result is [1], then the output file would contain [1,2,3,1]");
// - JoinSource Input, JSON: the output goes into the input object under "SageMakerOutput", or, when the input is not an
//   object, the result is {"SageMakerInput": input, "SageMakerOutput": output};
// - the supported operators: $, .name, *, ['a','b'], [i,j] (negative indexes from the end), [start:end].
// Local choices (documented in docs/local-cloud.md): slices follow JsonPath (Jayway), which the guide points to: the
// end is exclusive and both ends are clamped — the guide's own worked example calls `$[1:4]` "the second through fifth
// columns", which would be inclusive, and contradicts its operator table ("the array slice() method"). Index lists
// may hold one range at most ("$[0,5:]"); two ranges fail with the message AWS logs for them (sagemaker-python-sdk
// issue #1112). An index outside the record fails the object ("If you specify indexes that aren't within the
// dimension size of the joined dataset, you get an error").

/** A failure of the filters on one record or expression: the object fails, the message goes to the job's log. */
export class DataProcessingError extends Error {}

/** JSON text kept as it is (the model's output keeps its own number formatting, `0.0` stays `0.0`). */
export class RawJson {
  constructor(readonly text: string) {}
}

type Selector =
  | { kind: 'child'; name: string }
  | { kind: 'children'; names: string[] }
  | { kind: 'wildcard' }
  | { kind: 'indexes'; parts: ({ index: number } | { start?: number; end?: number })[] };

export interface JsonPath {
  readonly text: string;
  readonly selectors: Selector[];
  /** `$` (or no filter): the record as it is. */
  readonly isRoot: boolean;
  /** Only index selectors (usable on CSV records). */
  readonly indexOnly: boolean;
}

const NAME = /^[A-Za-z_$][\w$-]*/;

/** Parses the JSONPath subset SageMaker supports; DataProcessingError ("Invalid JsonPath: …") otherwise. */
export function parseJsonPath(text: string | undefined): JsonPath {
  const path = (text ?? '$').trim() || '$';
  const invalid = (why: string) => new DataProcessingError(`Invalid JsonPath: ${path}: ${why}`);
  if (!path.startsWith('$')) throw invalid('a path starts with $');
  const selectors: Selector[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    if (rest.startsWith('.*')) {
      selectors.push({ kind: 'wildcard' });
      rest = rest.slice(2);
    } else if (rest.startsWith('.')) {
      const name = NAME.exec(rest.slice(1))?.[0];
      if (!name) throw invalid(`no name after "." in ${rest}`);
      selectors.push({ kind: 'child', name });
      rest = rest.slice(1 + name.length);
    } else if (rest.startsWith('[')) {
      const close = closingBracket(rest);
      if (close === -1) throw invalid('unclosed [');
      selectors.push(parseBracket(rest.slice(1, close), path, invalid));
      rest = rest.slice(close + 1);
    } else {
      throw invalid(`unexpected ${JSON.stringify(rest[0])}`);
    }
  }
  return {
    text: path,
    selectors,
    isRoot: selectors.length === 0,
    indexOnly: selectors.every((s) => s.kind === 'indexes'),
  };
}

function closingBracket(text: string): number {
  let quote: string | undefined;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === ']') {
      return i;
    }
  }
  return -1;
}

function parseBracket(inner: string, path: string, invalid: (why: string) => DataProcessingError): Selector {
  const body = inner.trim();
  if (body === '*') return { kind: 'wildcard' };
  if (body.startsWith("'") || body.startsWith('"')) {
    const names: string[] = [];
    const pattern = /\s*(['"])(.*?)\1\s*(,|$)/gy;
    let match: RegExpExecArray | null;
    let consumed = 0;
    while (consumed < body.length && (match = pattern.exec(body)) !== null) {
      names.push(match[2]);
      consumed = pattern.lastIndex;
    }
    if (consumed !== body.length || names.length === 0) throw invalid(`bad names [${inner}]`);
    return names.length === 1 ? { kind: 'child', name: names[0] } : { kind: 'children', names };
  }
  const parts: ({ index: number } | { start?: number; end?: number })[] = [];
  for (const piece of body.split(',')) {
    const item = piece.trim();
    const range = /^(-?\d+)?\s*:\s*(-?\d+)?$/.exec(item);
    if (range) {
      parts.push({
        ...(range[1] !== undefined ? { start: Number(range[1]) } : {}),
        ...(range[2] !== undefined ? { end: Number(range[2]) } : {}),
      });
    } else if (/^-?\d+$/.test(item)) {
      parts.push({ index: Number(item) });
    } else {
      throw invalid(`bad index [${inner}]`);
    }
  }
  const ranges = parts.filter((part) => !('index' in part)).length;
  if (ranges > 1) {
    // The message SageMaker logs for it (sagemaker-python-sdk issue #1112).
    throw new DataProcessingError(
      `Invalid JsonPath: ${path}: only single range filters of format (eg: [1:5]) are supported. Format [${inner}] is not supported`,
    );
  }
  return { kind: 'indexes', parts };
}

/** Applies a path to a value; a single index or name selects the element itself, several select an array/object. */
export function applyJsonPath(path: JsonPath, value: unknown, what: string): unknown {
  let current = value;
  for (const selector of path.selectors) current = select(selector, current, path, what);
  return current;
}

function select(selector: Selector, value: unknown, path: JsonPath, what: string): unknown {
  const fail = (why: string) => new DataProcessingError(`${path.text} cannot be applied to the ${what}: ${why}`);
  switch (selector.kind) {
    case 'wildcard':
      if (Array.isArray(value)) return value;
      if (isObject(value)) return Object.values(value);
      throw fail('it is neither an array nor an object');
    case 'child':
      if (!isObject(value) || !(selector.name in value)) throw fail(`it has no attribute "${selector.name}"`);
      return value[selector.name];
    case 'children': {
      if (!isObject(value)) throw fail('it is not an object');
      const picked: Record<string, unknown> = {};
      for (const name of selector.names) if (name in value) picked[name] = value[name];
      return picked;
    }
    case 'indexes': {
      if (!Array.isArray(value)) throw fail('it is not an array');
      const length = value.length;
      const single = selector.parts.length === 1 && 'index' in selector.parts[0];
      const picked: unknown[] = [];
      for (const part of selector.parts) {
        if ('index' in part) {
          const index = part.index < 0 ? length + part.index : part.index;
          if (index < 0 || index >= length) {
            throw fail(`index ${part.index} is outside its ${length} element${length === 1 ? '' : 's'}`);
          }
          picked.push(value[index]);
        } else {
          const clamp = (n: number) => Math.min(length, Math.max(0, n < 0 ? length + n : n));
          const start = part.start === undefined ? 0 : clamp(part.start);
          const end = part.end === undefined ? length : clamp(part.end);
          for (let i = start; i < end; i++) picked.push(value[i]);
        }
      }
      return single ? picked[0] : picked;
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof RawJson);
}

/** One CSV record (RFC 4180: quoted fields, "" inside quotes) as its cells' text. */
export function parseCsvRecord(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote === -1) throw new DataProcessingError(`unterminated quoted field in CSV record ${truncate(line)}`);
        cell += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          cell += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      cells.push(cell);
      if (i >= line.length) return cells;
      if (line[i] !== ',') throw new DataProcessingError(`text after a quoted field in CSV record ${truncate(line)}`);
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma === -1) {
        cells.push(line.slice(i));
        return cells;
      }
      cells.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** Cells back to one CSV record, quoting a cell that holds a comma, a quote or a line break (RFC 4180). */
export function formatCsvRecord(cells: readonly unknown[]): string {
  return cells.map((cell) => csvCell(cell)).join(',');
}

function csvCell(cell: unknown): string {
  const text =
    cell instanceof RawJson
      ? cell.text
      : typeof cell === 'string'
        ? cell
        : cell === null || cell === undefined
          ? ''
          : typeof cell === 'object'
            ? toJsonText(cell)
            : String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** JSON text of a value, RawJson parts as they are. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v)).join(',')}]`;
  if (isObject(value))
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** The record formats DataProcessing works on. */
export type RecordFormat = 'csv' | 'json';

export function recordFormat(contentType: string | undefined): RecordFormat | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'text/csv') return 'csv';
  if (type === 'application/jsonlines' || type === 'application/json') return 'json';
  return undefined;
}

/** A record parsed for filtering: CSV cells, or a JSON value. */
export function parseRecord(record: string, format: RecordFormat): unknown {
  if (format === 'csv') return parseCsvRecord(record);
  try {
    return JSON.parse(record);
  } catch {
    throw new DataProcessingError(`record is not JSON: ${truncate(record)}`);
  }
}

/** A filtered record back to text: a CSV row (a single selected cell is a row of one), or JSON. */
export function formatRecord(value: unknown, format: RecordFormat): string {
  if (format === 'json') return toJsonText(value);
  return formatCsvRecord(Array.isArray(value) ? value : [value]);
}

/**
 * JoinSource Input: the raw input record with the model's output for it. CSV: the output appended as the last element
 * of the row. JSON: "SageMakerOutput" added to an input object, else {"SageMakerInput", "SageMakerOutput"}.
 */
export function joinRecord(input: unknown, output: RawJson | string, format: RecordFormat): unknown {
  if (format === 'csv') return [...(input as unknown[]), output];
  const value = typeof output === 'string' ? new RawJson(JSON.stringify(output)) : output;
  if (isObject(input)) return { ...input, SageMakerOutput: value };
  return { SageMakerInput: input, SageMakerOutput: value };
}

/**
 * The raw JSON text of each element of a response's `predictions` array (application/json), so that each record's
 * output keeps the container's own formatting.
 */
export function predictionTexts(body: string): string[] {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    throw new DataProcessingError('the model response is not JSON');
  }
  if (!isObject(document) || !Array.isArray(document.predictions)) {
    throw new DataProcessingError('the model response has no "predictions" array');
  }
  const key = body.indexOf('"predictions"');
  const open = body.indexOf('[', key);
  const texts: string[] = [];
  let depth = 0;
  let start = open + 1;
  let inString = false;
  for (let i = open + 1; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '[' || c === '{') {
      depth++;
    } else if (c === ']' || c === '}') {
      if (depth === 0) {
        const last = body.slice(start, i).trim();
        if (last) texts.push(last);
        break;
      }
      depth--;
    } else if (c === ',' && depth === 0) {
      texts.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  return texts;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
