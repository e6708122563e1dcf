// Shared List* semantics: filters, sorting, MaxResults and opaque NextToken paging.
import { validationException } from './errors';
import type { Json } from './context';
import { Violations } from './validation';

export interface ListableResource {
  name: string;
  creationTime: Date;
  lastModifiedTime?: Date;
  status?: string;
}

export interface ListOptions<T> {
  items: T[];
  describe: (item: T) => ListableResource;
  summarize: (item: T) => Json;
  resultKey: string;
  defaultSortOrder: 'Ascending' | 'Descending';
  sortByValues: readonly string[];
  statusValues?: readonly string[];
}

export function listResources<T>(request: Json, options: ListOptions<T>): Json {
  const violations = new Violations();
  violations.integer(request.MaxResults, 'maxResults', { min: 1, max: 100 });
  violations.oneOf(request.SortBy, 'sortBy', options.sortByValues);
  violations.oneOf(request.SortOrder, 'sortOrder', ['Ascending', 'Descending']);
  if (options.statusValues) violations.oneOf(request.StatusEquals, 'statusEquals', options.statusValues);
  violations.string(request.NameContains, 'nameContains', { max: 63 });
  violations.string(request.NextToken, 'nextToken', { max: 8192 });
  violations.throwIfAny();

  const after = (field: string) => (typeof request[field] === 'number' ? (request[field] as number) * 1000 : undefined);
  const creationAfter = after('CreationTimeAfter');
  const creationBefore = after('CreationTimeBefore');
  const modifiedAfter = after('LastModifiedTimeAfter');
  const modifiedBefore = after('LastModifiedTimeBefore');
  const nameContains = typeof request.NameContains === 'string' ? request.NameContains.toLowerCase() : undefined;

  const rows = options.items
    .map((item) => ({ item, info: options.describe(item) }))
    .filter(({ info }) => {
      const created = info.creationTime.getTime();
      const modified = (info.lastModifiedTime ?? info.creationTime).getTime();
      if (nameContains !== undefined && !info.name.toLowerCase().includes(nameContains)) return false;
      if (creationAfter !== undefined && !(created > creationAfter)) return false;
      if (creationBefore !== undefined && !(created < creationBefore)) return false;
      if (modifiedAfter !== undefined && !(modified > modifiedAfter)) return false;
      if (modifiedBefore !== undefined && !(modified < modifiedBefore)) return false;
      if (request.StatusEquals !== undefined && info.status !== request.StatusEquals) return false;
      return true;
    });

  const sortBy = (request.SortBy as string | undefined) ?? 'CreationTime';
  const direction = ((request.SortOrder as string | undefined) ?? options.defaultSortOrder) === 'Ascending' ? 1 : -1;
  const sortValue = (info: ListableResource): string | number =>
    sortBy === 'Name' ? info.name : sortBy === 'Status' ? (info.status ?? '') : info.creationTime.getTime();
  // Stable tie-break on name keeps pages consistent between calls
  rows.sort((a, b) => {
    const [x, y] = [sortValue(a.info), sortValue(b.info)];
    if (x !== y) return (x < y ? -1 : 1) * direction;
    return a.info.name < b.info.name ? -1 : a.info.name > b.info.name ? 1 : 0;
  });

  const offset = decodeNextToken(request.NextToken);
  const pageSize = (request.MaxResults as number | undefined) ?? 10;
  const page = rows.slice(offset, offset + pageSize);
  const result: Json = { [options.resultKey]: page.map(({ item }) => options.summarize(item)) };
  if (offset + pageSize < rows.length)
    result.NextToken = Buffer.from(JSON.stringify({ offset: offset + pageSize })).toString('base64');
  return result;
}

function decodeNextToken(token: unknown): number {
  if (token === undefined || token === null) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')) as { offset: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the error below
  }
  throw validationException('Invalid pagination token');
}
