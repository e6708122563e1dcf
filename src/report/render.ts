// renderRunReport: one self-contained HTML page (inline CSS and SVG, no scripts, no external references) per run.
import { escapeHtml } from './html';
import { datasetSection, scatterMatrixSection } from './sections/dataset';
import { splitSection } from './sections/split';
import { crossValidationSection } from './sections/crossValidation';
import { trainingSection } from './sections/training';
import { evaluationChartSection, metricsSection } from './sections/evaluation';
import { validationSection } from './sections/validation';
import { executionSection } from './sections/execution';
import { costSection } from './sections/cost';
import { servingSection } from './sections/serving';
import { headerHtml } from './sections/header';
import { REPORT_CSS } from './style';
import type { RunReportInput } from './types';

/** The page may not load or run anything: even a label that slipped through escaping could not execute. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'";

export async function renderRunReport(input: RunReportInput): Promise<string> {
  const parts = await Promise.all([
    datasetSection(input),
    scatterMatrixSection(input),
    splitSection(input),
    crossValidationSection(input),
    trainingSection(input),
    evaluationChartSection(input),
    metricsSection(input),
    validationSection(input),
    servingSection(input),
    executionSection(input),
    costSection(input),
  ]);
  const sections = parts.filter((part): part is NonNullable<typeof part> => part !== null);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>k-NN run ${escapeHtml(input.runId)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${headerHtml(input, sections)}
${sections.map((part) => part.html).join('\n')}
</main>
</body>
</html>
`;
}
