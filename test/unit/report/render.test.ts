import { renderRunReport, reportInputFromArtifacts, type RunReportInput } from '../../../src/report';
import { HOSTILE, hostileArtifacts, housingArtifacts, irisArtifacts } from './fixtures';
import { externalReferences } from './selfContained';

const CLASSIFIER_SECTIONS = [
  'dataset',
  'scatter-matrix',
  'split',
  'cross-validation',
  'tuning',
  'training',
  'confusion-matrix',
  'metrics',
  'validation',
  'execution-path',
  'cost',
];

function sectionHtml(html: string, id: string): string {
  const match = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  if (!match) throw new Error(`no section ${id}`);
  return match[1];
}

function svgSizes(html: string): { width: number; height: number }[] {
  return [...html.matchAll(/<svg\b[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/g)].map((m) => ({
    width: Number(m[1]),
    height: Number(m[2]),
  }));
}

describe('classifier report (Iris)', () => {
  let html: string;
  let input: RunReportInput;
  beforeAll(async () => {
    input = reportInputFromArtifacts(irisArtifacts());
    html = await renderRunReport(input);
  });

  test('is one HTML document with every section, in order, each linked from the contents', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    const ids = [...html.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]);
    expect(ids).toEqual(CLASSIFIER_SECTIONS);
    for (const id of ids) expect(html).toContain(`<a href="#${id}">`);
  });

  test('draws its charts as inline SVG with a size: class balance, scatter matrix, confusion matrix, execution path', () => {
    const charts = {
      dataset: 1,
      'scatter-matrix': 1,
      'confusion-matrix': 1,
      'execution-path': 1,
      metrics: 0,
      validation: 0,
    };
    for (const [id, count] of Object.entries(charts))
      expect(sectionHtml(html, id).match(/<svg\b/g) ?? []).toHaveLength(count);
    const sizes = svgSizes(html);
    expect(sizes).toHaveLength(4);
    for (const size of sizes) expect(size.width * size.height).toBeGreaterThan(100 * 100);
    // The scatter matrix draws each of the 6 feature pairs of 150 rows.
    expect(sectionHtml(html, 'scatter-matrix').match(/<path transform="translate/g)!.length).toBeGreaterThanOrEqual(
      6 * 150,
    );
  });

  test('gives every SVG-internal id (clip paths) a name unique in the document', () => {
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(CLASSIFIER_SECTIONS.length);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [, target] of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(target);
  });

  test('references nothing outside itself and cannot run code', () => {
    expect(externalReferences(html)).toEqual([]);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
  });

  test('stays small', () => {
    expect(Buffer.byteLength(html)).toBeLessThan(400 * 1024);
  });

  test('shows the dataset, split, training and cost facts', () => {
    expect(sectionHtml(html, 'dataset')).toContain('s3://knn-pipeline-data/raw/iris-report-test.csv');
    expect(sectionHtml(html, 'dataset')).toContain('Sepal.Length, Sepal.Width, Petal.Length, Petal.Width');
    expect(sectionHtml(html, 'split')).toMatch(/112 \(74\.7 %\)[\s\S]*38 \(25\.3 %\)/);
    const training = sectionHtml(html, 'training');
    expect(training).toContain('knnp-dev-iris-report-test');
    expect(training).toContain('<td>sample_size</td><td>1000</td>');
    expect(training).toContain('test:accuracy');
    expect(training).toContain('97 s');
    // 97 s + 63.8 s of ml.m5.large at $0.115/h.
    expect(sectionHtml(html, 'cost')).toContain('Estimated total: $0.0051');
    expect(sectionHtml(html, 'cost')).toContain('as of 2025-01');
  });

  test('lists per-class and averaged metrics and the quality gate verdict', () => {
    const metrics = sectionHtml(html, 'metrics');
    for (const name of ['setosa', 'versicolor', 'virginica', 'macro average', 'weighted average', 'accuracy'])
      expect(metrics).toContain(name);
    const { outcome } = input;
    if (outcome.predictorType !== 'classifier') throw new Error('expected a classifier');
    expect(metrics).toContain(outcome.metrics.macroF1.toFixed(4));
    expect(metrics).toContain(outcome.metrics.weightedF1.toFixed(4));
    expect(metrics).toMatch(/class="gate (pass|fail)"/);
  });

  test('marks exactly the misclassified test rows and lists them first', () => {
    const { outcome } = input;
    if (outcome.predictorType !== 'classifier') throw new Error('expected a classifier');
    const misses = outcome.validation.filter((row) => !row.match);
    expect(misses.length).toBeGreaterThan(0);
    const validation = sectionHtml(html, 'validation');
    const rows = [...validation.matchAll(/<tr( class="miss")?><td class="num">(\d+)<\/td>[\s\S]*?<\/tr>/g)];
    expect(rows).toHaveLength(outcome.validation.length);
    const marked = rows.filter((row) => row[1]).map((row) => Number(row[2]));
    expect(marked).toEqual(misses.map((row) => row.row));
    expect(rows.slice(0, misses.length).every((row) => row[1])).toBe(true);
    for (const row of rows) expect(row[0].includes('✖ miss')).toBe(Boolean(row[1]));
    expect(validation).toContain(`${outcome.validation.length} test rows, ${misses.length} misclassified`);
  });

  test('shows the execution path as time per state plus every visit', () => {
    const path = sectionHtml(html, 'execution-path');
    expect(path).toContain('All 8 state visits in order');
    expect(path).toContain('WaitForEndpoint');
    expect(path).toContain('3 min 5 s');
  });

  test('is the same for the same input', async () => {
    expect(await renderRunReport(input)).toBe(html);
  });
});

describe('regressor report', () => {
  let html: string;
  beforeAll(async () => {
    html = await renderRunReport(reportInputFromArtifacts(housingArtifacts()));
  });

  test('has a predicted-vs-true chart instead of a confusion matrix, and a target histogram', () => {
    const ids = [...html.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]);
    expect(ids).toEqual(CLASSIFIER_SECTIONS.map((id) => (id === 'confusion-matrix' ? 'predicted-vs-true' : id)));
    expect(sectionHtml(html, 'predicted-vs-true')).toContain('<svg');
    expect(sectionHtml(html, 'dataset')).toContain('Distribution of price');
    expect(sectionHtml(html, 'dataset')).toContain('<svg');
    expect(externalReferences(html)).toEqual([]);
  });

  test('lists MSE, RMSE, MAE and R², and each test row with its error, largest errors highlighted first', () => {
    const metrics = sectionHtml(html, 'metrics');
    for (const name of ['MSE', 'RMSE', 'MAE', 'R²']) expect(metrics).toContain(`<td>${name}</td>`);
    const validation = sectionHtml(html, 'validation');
    expect(validation).toContain('error (predicted − true)');
    const rows = [...validation.matchAll(/<tr( class="miss")?><td class="num">\d+<\/td>/g)];
    expect(rows).toHaveLength(60);
    const highlighted = rows.filter((row) => row[1]).length;
    // Every 9th of 60 rows is 20 % off: 6 rows, exactly the worst tenth.
    expect(highlighted).toBe(6);
    expect(rows.slice(0, highlighted).every((row) => row[1])).toBe(true);
  });
});

describe('user-provided names', () => {
  let html: string;
  beforeAll(async () => {
    html = await renderRunReport(reportInputFromArtifacts(hostileArtifacts()));
  });

  test('are escaped everywhere: tables, headings, chart labels and legends', () => {
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a&lt;b&gt;');
    expect(html).toContain('x&amp;y &quot;z&quot;');
    // Inside the SVG charts too (axis titles, legend entries).
    const svgText = (html.match(/<svg[\s\S]*?<\/svg>/g) ?? []).join('');
    expect(svgText).toContain('&lt;script&gt;');
    expect(externalReferences(html)).toEqual([]);
  });
});

describe('large and incomplete inputs', () => {
  function wideInput(): RunReportInput {
    const base = reportInputFromArtifacts(irisArtifacts());
    const featureNames = Array.from({ length: 8 }, (_, i) => `feature ${i}`);
    const points = Array.from({ length: 1000 }, (_, i) => ({
      features: featureNames.map((_, j) => (i * (j + 3)) % 17),
      target: ['setosa', 'versicolor', 'virginica'][i % 3],
    }));
    return {
      ...base,
      dataset: { ...base.dataset, featureNames, rowCount: 1000 },
      featureRows: { origin: 'dataset', points },
    };
  }

  test('caps the scatter matrix to the first 6 features and a deterministic sample of rows, and says so', async () => {
    const html = await renderRunReport(wideInput());
    const scatter = sectionHtml(html, 'scatter-matrix');
    expect(scatter).toContain('only the first 6 of 8 features');
    expect(scatter).toContain('300 of 1000 rows, sampled deterministically');
    expect(scatter).not.toContain('feature 6');
    expect(scatter.match(/<path transform="translate/g)!.length).toBeLessThanOrEqual(15 * 300 + 20);
    expect(await renderRunReport(wideInput())).toBe(html);
  });

  test('renders without split, training, gate, execution path or cost, saying what is missing', async () => {
    const base = reportInputFromArtifacts(irisArtifacts());
    const { executionPath: _path, cost: _cost, ...rest } = base;
    const html = await renderRunReport({ ...rest, split: null, training: null, gate: null });
    expect(sectionHtml(html, 'split')).toContain('No split information');
    expect(sectionHtml(html, 'training')).toContain('No training job summary');
    expect(sectionHtml(html, 'execution-path')).toContain('not recorded');
    expect(sectionHtml(html, 'cost')).toContain('No instance usage');
    expect(html).toContain('no quality gate result');
    expect(externalReferences(html)).toEqual([]);
  });

  test('shows seconds only for an instance type missing from the price table', async () => {
    const base = reportInputFromArtifacts(irisArtifacts());
    const html = await renderRunReport({
      ...base,
      cost: { training: { instanceType: 'ml.x9.huge', instanceCount: 2, seconds: 30 } },
    });
    const cost = sectionHtml(html, 'cost');
    expect(cost).toContain('not in table');
    expect(cost).toContain('60 s');
    expect(cost).not.toContain('Estimated total');
  });
});

describe('cross-validation section', () => {
  test('shows per-fold scores, mean ± std and the spread warning when the run cross-validated', async () => {
    const { summariseCrossValidation } = await import('../../../src/domain/crossValidation');
    const base = reportInputFromArtifacts(irisArtifacts());
    const crossValidation = summariseCrossValidation(
      'classifier',
      [1, 0.8666666666666667, 1].map((accuracy, i) => ({
        fold: i + 1,
        trainingJobName: `job-f${i + 1}`,
        trainRows: 100,
        testRows: 50,
        finalMetrics: [{ MetricName: 'test:accuracy', Value: accuracy }],
      })),
    );
    const cvSection = sectionHtml(await renderRunReport({ ...base, crossValidation }), 'cross-validation');
    expect(cvSection).toContain('3-fold cross-validation: accuracy 0.9556 ± 0.0629');
    expect(cvSection).toContain('class="warning"');
    expect(cvSection).toContain('<svg');
    expect(cvSection).toContain('0.8667');
  });
});

describe('tuning section', () => {
  test('plots the objective against k, one point per trial, the chosen trial marked; a note when not tuned', async () => {
    const { exampleArtifacts } = await import('../artifacts/examples');
    const base = reportInputFromArtifacts(irisArtifacts());
    expect(sectionHtml(await renderRunReport(base), 'tuning')).toContain('Not requested for this run');
    const trials = exampleArtifacts().trials;
    const tuning = sectionHtml(await renderRunReport({ ...base, tuning: trials }), 'tuning');
    expect(tuning).toContain('<svg');
    expect(tuning).toContain('Chosen: k = 1, the highest test:accuracy (a tie goes to the smallest k)');
    expect(tuning).toContain('never on the held-out test rows');
    // Every trial is a row of the table, the chosen one marked; a failed trial has no objective.
    for (const trial of trials.trials) expect(tuning).toContain(trial.trainingJobName);
    expect(tuning.match(/>chosen<\/td>/g)).toHaveLength(1);
  });
});

describe('serving section', () => {
  test('appears only in serving mode, with the decision, the outcome and a warning for a rollback', async () => {
    const base = reportInputFromArtifacts(irisArtifacts());
    expect(await renderRunReport(base)).not.toContain('<section id="serving">');
    const html = await renderRunReport({
      ...base,
      serving: {
        decision: 'promote',
        reason: 'Promoted: accuracy 0.97 vs 0.95',
        outcome: 'rolled-back',
        message: 'Promotion rolled back: …',
      },
    });
    const part = sectionHtml(html, 'serving');
    expect(part).toContain('promoted: at least as good as the model serving before');
    expect(part).toContain('rolled-back');
    expect(part).toContain('class="warning"');
  });
});
