// The top of the report: what run this is, whether it passed, its headline numbers, and a table of contents.
import { estimateCost } from '../cost';
import { fixed, percent, usd } from '../format';
import { escapeHtml, type ReportSection } from '../html';
import { count } from '../sampling';
import type { RunReportInput } from '../types';

type Tile = [label: string, value: string];

function headlineTiles({ outcome, cost }: RunReportInput): Tile[] {
  const tiles: Tile[] =
    outcome.predictorType === 'classifier'
      ? [
          ['accuracy', percent(outcome.metrics.accuracy)],
          ['macro F1', fixed(outcome.metrics.macroF1, 3)],
          ['test rows', count(outcome.digest?.testRows ?? outcome.validation.length)],
          [
            'misclassified',
            count(outcome.digest?.notableRows ?? outcome.validation.filter((row) => !row.match).length),
          ],
        ]
      : [
          ['RMSE', fixed(outcome.metrics.rmse, 3)],
          ['R²', fixed(outcome.metrics.r2, 3)],
          ['MAE', fixed(outcome.metrics.mae, 3)],
          ['test rows', count(outcome.digest?.testRows ?? outcome.validation.length)],
        ];
  const total = cost ? estimateCost(cost).totalUsd : null;
  if (total !== null) tiles.push(['est. cost', usd(total)]);
  return tiles;
}

export function headerHtml(input: RunReportInput, contents: ReportSection[]): string {
  const gate = input.gate;
  const badge = gate
    ? `<span class="badge ${gate.passed ? 'pass' : 'fail'}">quality gate ${gate.passed ? 'passed' : 'not met'}</span>`
    : '<span class="badge">no quality gate result</span>';
  const tiles = headlineTiles(input)
    .map(
      ([label, value]) =>
        `<div class="tile"><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`,
    )
    .join('');
  const generated = input.generatedAt ? ` · generated ${escapeHtml(input.generatedAt)}` : '';
  const nav = contents.map(({ id, title }) => `<a href="#${escapeHtml(id)}">${escapeHtml(title)}</a>`).join('\n');
  return `<header>
<h1>k-NN run <code>${escapeHtml(input.runId)}</code> ${badge}</h1>
<p class="subtitle">${escapeHtml(input.outcome.predictorType)} on ${escapeHtml(input.dataset.sourceUri)}${generated}</p>
<div class="tiles">${tiles}</div>
<nav>${nav}</nav>
</header>`;
}
