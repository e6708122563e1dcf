/**
 * The report of a large run: the big files are read as streams and only what the report shows is kept, so charts
 * drawn from a sample say so, and the counts are exact.
 */
import {
  readRunData,
  renderRunReport,
  renderRunReportAsDataArrives,
  reportInputBeforeData,
  reportInputFromArtifacts,
  reportInputFromRunData,
  reportInputFromStreams,
  type RunArtifacts,
} from '../../../src/report';
import { runArtifacts } from './fixtures';
import { externalReferences } from './selfContained';

function sectionHtml(html: string, id: string): string {
  const match = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  if (!match) throw new Error(`no section ${id}`);
  return match[1];
}

/** A seeded CSV of `rows` rows: `features` numeric columns and a label (a class name, or a value for a regressor). */
function syntheticCsv(rows: number, features: number, predictorType: 'classifier' | 'regressor'): string {
  const header = [...Array.from({ length: features }, (_, j) => `x${j}`), 'label'].join(',');
  const lines = Array.from({ length: rows }, (_, i) => {
    const values = Array.from({ length: features }, (_, j) => ((i * (j + 3)) % 101) / 10);
    const label = predictorType === 'classifier' ? ['alpha', 'beta', 'gamma'][i % 3] : String((i % 50) + values[0]);
    return [...values, label].join(',');
  });
  return `${header}\n${lines.join('\n')}\n`;
}

/** The artifacts' big files as streams of small chunks, as the Report function reads them from S3. */
function streamsOf(artifacts: RunArtifacts) {
  const { predictionsCsv, preparedFeaturesCsv, preparedLabels, ...rest } = artifacts;
  const source = (data: string | Uint8Array | Float64Array) => {
    const bytes =
      typeof data === 'string'
        ? new TextEncoder().encode(data)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return async function* () {
      for (let offset = 0; offset < bytes.length; offset += 4093) yield bytes.subarray(offset, offset + 4093);
    };
  };
  return {
    ...rest,
    predictions: source(predictionsCsv),
    preparedFeatures: source(preparedFeaturesCsv!),
    preparedLabels: source(preparedLabels!),
  };
}

/**
 * The Report function's way: sections that need no data render from the input without it, the others once the
 * streams have been read. Any section that drew data without saying so would differ from renderRunReport's page.
 */
async function renderAsDataArrives(artifacts: RunArtifacts): Promise<string> {
  const streams = streamsOf(artifacts);
  const complete = readRunData(streams).then((data) => reportInputFromRunData(streams, data));
  return renderRunReportAsDataArrives(reportInputBeforeData(streams), complete);
}

describe('classifier report of 4,000 rows × 8 features', () => {
  let html: string;
  let artifacts: RunArtifacts;
  beforeAll(async () => {
    artifacts = runArtifacts({
      csv: syntheticCsv(4_000, 8, 'classifier'),
      labelColumn: 'label',
      predictorType: 'classifier',
    });
    html = await renderRunReport(await reportInputFromStreams(streamsOf(artifacts)));
  });

  test('the scatter matrix draws a seeded uniform sample and its caption says so', () => {
    const scatter = sectionHtml(html, 'scatter-matrix');
    expect(scatter).toContain(
      'Shows only the first 6 of 8 features and 300 of 4,000 rows, sampled uniformly at random (seed 0).',
    );
    expect(scatter.match(/<path transform="translate/g)!.length).toBeLessThanOrEqual(15 * 300 + 20);
  });

  test('counts are exact: test rows and misses in the header and the validation table, which lists misses first', () => {
    const misses = Math.floor(1_000 / 9);
    expect(html).toContain('<div class="value">1,000</div><div class="label">test rows</div>');
    expect(html).toContain(`<div class="value">${misses}</div><div class="label">misclassified</div>`);
    const validation = sectionHtml(html, 'validation');
    expect(validation).toContain(`1,000 test rows, ${misses} misclassified (highlighted, listed first).`);
    expect(validation).toContain(
      'Shows 500 of 1,000 test rows (misclassified rows first); predictions.csv has every row.',
    );
    const rows = [...validation.matchAll(/<tr( class="miss")?><td class="num">\d+<\/td>/g)];
    expect(rows).toHaveLength(500);
    expect(rows.slice(0, misses).every((row) => row[1])).toBe(true);
    expect(rows.slice(misses).some((row) => row[1])).toBe(false);
    expect(sectionHtml(html, 'dataset')).toContain('<th scope="row">Rows</th><td>4,000</td>');
    expect(sectionHtml(html, 'split')).toContain('<td>3,000 (75.0 %)</td>');
  });

  test('streamed or whole, the same report; the same on every render', async () => {
    expect(await renderRunReport(reportInputFromArtifacts(artifacts))).toBe(html);
    expect(await renderRunReport(await reportInputFromStreams(streamsOf(artifacts)))).toBe(html);
    expect(externalReferences(html)).toEqual([]);
  });

  test('started before the data has been read (as the Report function does), the same report', async () => {
    expect(await renderAsDataArrives(artifacts)).toBe(html);
  });
});

describe('regressor report of 6,000 rows', () => {
  let html: string;
  let artifacts: RunArtifacts;
  beforeAll(async () => {
    artifacts = runArtifacts({
      csv: syntheticCsv(6_000, 2, 'regressor'),
      labelColumn: 'label',
      predictorType: 'regressor',
      runId: 'big-regression',
    });
    html = await renderRunReport(await reportInputFromStreams(streamsOf(artifacts)));
  });

  test('the predicted-vs-true chart and the target histogram draw samples and say so', () => {
    expect(sectionHtml(html, 'predicted-vs-true')).toContain(
      'Each test row; the dashed line is a perfect prediction. Shows 1,000 of 1,500 test rows, sampled uniformly at random (seed 0).',
    );
    expect(sectionHtml(html, 'dataset')).toContain(
      'Distribution of label over the dataset. Shows 5,000 of 6,000 rows, sampled uniformly at random (seed 0).',
    );
  });

  test('started before the data has been read, the same report', async () => {
    expect(await renderAsDataArrives(artifacts)).toBe(html);
  });

  test('the validation table lists the largest errors first, from all 1,500 test rows', () => {
    const validation = sectionHtml(html, 'validation');
    expect(validation).toContain('1,500 test rows; the rows with the largest absolute errors');
    expect(validation).toContain('Shows 500 of 1,500 test rows (largest errors first)');
    const rows = [...validation.matchAll(/<tr( class="miss")?><td class="num">\d+<\/td>/g)];
    expect(rows).toHaveLength(500);
    const highlighted = rows.filter((row) => row[1]).length;
    expect(highlighted).toBeGreaterThanOrEqual(150);
    expect(rows.slice(0, highlighted).every((row) => row[1])).toBe(true);
  });
});
