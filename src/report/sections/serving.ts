// Serving mode: which model serves after this run, and why (promoted, kept the champion, gate failed, rolled back).
import { definitionTable, paragraph, section, type ReportSection } from '../html';
import type { RunReportInput } from '../types';

const DECISIONS: Record<string, string> = {
  create: 'first promotion: the stable endpoint was created with this model',
  promote: 'promoted: at least as good as the model serving before, on the same test rows',
  keep: 'kept the champion: the model serving before scored better on the same test rows',
  'gate-failed': 'not promoted: the quality gate failed',
};

/** Only serving-mode runs have this section. */
export function servingSection({ serving }: RunReportInput): ReportSection | null {
  if (!serving) return null;
  return section(
    'serving',
    'Serving',
    definitionTable([
      ['Decision', DECISIONS[serving.decision] ?? serving.decision],
      [
        'Outcome',
        serving.outcome ??
          (serving.decision === 'keep' || serving.decision === 'gate-failed' ? 'unchanged' : 'not recorded'),
      ],
    ]) +
      paragraph(
        serving.message ?? serving.reason,
        serving.outcome === 'rolled-back' || serving.outcome === 'failed' ? 'warning' : undefined,
      ),
  );
}
