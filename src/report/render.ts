// renderRunReport: one self-contained HTML page (inline CSS and SVG, no scripts, no external references) per run.
import { escapeHtml } from './html';
import { datasetSection, scatterMatrixSection } from './sections/dataset';
import { splitSection } from './sections/split';
import { featuresSection } from './sections/features';
import { crossValidationSection } from './sections/crossValidation';
import { tuningSection } from './sections/tuning';
import { trainingSection } from './sections/training';
import { evaluationChartSection, metricsSection } from './sections/evaluation';
import { validationSection } from './sections/validation';
import { executionSection } from './sections/execution';
import { costSection } from './sections/cost';
import { servingSection } from './sections/serving';
import { headerHtml } from './sections/header';
import { REPORT_CSS } from './style';
import type { ReportSection } from './html';
import type { PredictorType, RunReportInput } from './types';

/** The page may not load or run anything: even a label that slipped through escaping could not execute. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'";

type Section = (input: RunReportInput) => ReportSection | null | Promise<ReportSection | null>;

/**
 * The sections in page order, each with whether it draws the big files' data (the dataset sample, predictions.csv's
 * rows and counts) for a predictor type; the others need only the JSON artifacts and the execution's path.
 */
const SECTIONS: { render: Section; needsData: (predictorType: PredictorType) => boolean }[] = [
  // A classifier's class balance comes from the manifest; a regressor's histogram from the dataset sample.
  { render: datasetSection, needsData: (type) => type === 'regressor' },
  { render: scatterMatrixSection, needsData: () => true },
  { render: splitSection, needsData: () => false },
  { render: featuresSection, needsData: () => false },
  { render: crossValidationSection, needsData: () => false },
  { render: tuningSection, needsData: () => false },
  { render: trainingSection, needsData: () => false },
  // The confusion matrix comes from metrics.json; predicted-vs-true from predictions.csv's rows.
  { render: evaluationChartSection, needsData: (type) => type === 'regressor' },
  { render: metricsSection, needsData: () => false },
  { render: validationSection, needsData: () => true },
  { render: servingSection, needsData: () => false },
  { render: executionSection, needsData: () => false },
  { render: costSection, needsData: () => false },
];

export async function renderRunReport(input: RunReportInput): Promise<string> {
  return renderRunReportAsDataArrives(input, Promise.resolve(input));
}

/**
 * The same page, started before the big files have been read: the sections that need only what `early` already
 * holds (everything but the data, which may be empty there) render while `complete` is on its way, and the rest
 * once it has come. Both inputs must agree on everything but featureRows and the outcome's rows and digest.
 */
export async function renderRunReportAsDataArrives(
  early: RunReportInput,
  complete: Promise<RunReportInput>,
): Promise<string> {
  const predictorType = early.outcome.predictorType;
  const parts = await Promise.all(
    SECTIONS.map(({ render, needsData }) => (needsData(predictorType) ? complete.then(render) : render(early))),
  );
  const input = await complete;
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
