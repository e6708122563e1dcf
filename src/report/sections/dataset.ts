// Dataset summary with its class balance, and the scatter matrix of the features.
import { renderChart } from '../charts/render';
import { classBalanceSpec, scatterMatrixSpec, targetHistogramSpec } from '../charts/dataset';
import { definitionTable, figure, paragraph, section, type ReportSection } from '../html';
import { count, describeSample, sampledRows, scatterSample } from '../sampling';
import type { RunReportInput } from '../types';

export async function datasetSection({ dataset, featureRows }: RunReportInput): Promise<ReportSection> {
  const facts = definitionTable([
    ['Source', dataset.sourceUri],
    ['Rows', count(dataset.rowCount)],
    ['Label column', dataset.labelColumn],
    [`Features (${dataset.featureNames.length})`, dataset.featureNames.join(', ')],
    [
      'Classes',
      dataset.classes ? `${dataset.classes.length}: ${dataset.classes.join(', ')}` : 'none (regression target)',
    ],
  ]);
  const warnings = dataset.warnings.map((warning) => paragraph(`⚠ ${warning}`, 'warning')).join('\n');
  const chart =
    dataset.classes && dataset.classCounts
      ? figure(
          await renderChart(
            classBalanceSpec(dataset.classes, dataset.classCounts, dataset.labelColumn),
            'Rows per class',
            'class-balance',
          ),
          'Class balance: rows per class in the whole dataset.',
        )
      : await targetHistogram(dataset.labelColumn, featureRows);
  return section('dataset', 'Dataset', `${facts}\n${warnings}\n${chart}`);
}

async function targetHistogram(labelColumn: string, featureRows: RunReportInput['featureRows']): Promise<string> {
  const targets = featureRows.targets ?? {
    values: featureRows.points.map((point) => Number(point.target)),
    sampledFrom: featureRows.sampledFrom,
  };
  const over = featureRows.origin === 'dataset' ? 'dataset' : 'test rows';
  const sampled = targets.sampledFrom ? ` Shows ${sampledRows(targets.values.length, targets.sampledFrom)}.` : '';
  return figure(
    await renderChart(
      targetHistogramSpec(targets.values, labelColumn),
      'Distribution of the target',
      'target-distribution',
    ),
    `Distribution of ${labelColumn} over the ${over}.${sampled}`,
  );
}

export async function scatterMatrixSection({ dataset, featureRows }: RunReportInput): Promise<ReportSection> {
  const title = 'Scatter matrix';
  if (dataset.featureNames.length < 2)
    return section('scatter-matrix', title, paragraph('One feature only: there is no pair of features to plot.'));
  if (featureRows.points.length === 0)
    return section('scatter-matrix', title, paragraph('No feature rows were available for this run.'));
  const sample = scatterSample(dataset.featureNames, featureRows.points);
  const svg = await renderChart(
    scatterMatrixSpec(sample, dataset.classes, dataset.labelColumn),
    'Scatter matrix of the features',
    'scatter-matrix',
  );
  const coloured = dataset.classes ? 'coloured by class' : `coloured by ${dataset.labelColumn}`;
  const rows =
    featureRows.origin === 'dataset' ? 'dataset rows' : 'test rows only (the prepared dataset was not available)';
  const caption = [`Each pair of features once, ${coloured}; ${rows}.`, describeSample(sample, featureRows.sampledFrom)]
    .filter(Boolean)
    .join(' ');
  return section('scatter-matrix', title, figure(svg, caption));
}
