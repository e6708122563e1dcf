// How the rows were divided between training and testing.
import { definitionTable, paragraph, section, type ReportSection } from '../html';
import { percent } from '../format';
import { count } from '../sampling';
import type { RunReportInput } from '../types';

export function splitSection({ split }: RunReportInput): ReportSection {
  if (!split) return section('split', 'Train/test split', paragraph('No split information was recorded for this run.'));
  const total = split.trainRows + split.testRows;
  return section(
    'split',
    'Train/test split',
    definitionTable([
      ['Training rows', `${count(split.trainRows)} (${percent(split.trainRows / total)})`],
      ['Test rows', `${count(split.testRows)} (${percent(split.testRows / total)})`],
      ['Test fraction', split.testFraction],
      ['Seed', split.seed],
    ]) +
      paragraph(
        'Rows are shuffled and split exactly as scikit-learn’s train_test_split does for the same seed.',
        'note',
      ),
  );
}
