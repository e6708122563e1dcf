// The report's Features section: the choice of columns, the scaled ranges and PCA's explained variance.
import { featuresSection } from '../../../src/report/sections/features';
import type { RunReportInput } from '../../../src/report/types';
import { exampleArtifacts } from '../artifacts/examples';

const transform = exampleArtifacts().transform;

test('lists the columns, the scaling with ranges before and after, the categories and the explained variance', async () => {
  const part = await featuresSection({
    features: { dropped: ['id'], categorical: ['colour'], categoricalChoice: 'auto', transform },
  } as unknown as RunReportInput);
  expect(part!.html).toContain('colour (auto: every non-numeric column)');
  expect(part!.html).toContain('StandardScaler');
  // width: raw 2..3, centre 2.5, scale 0.5 → -1..1
  expect(part!.html).toMatch(/<td>-1\.000<\/td><td>1\.000<\/td>/);
  expect(part!.html).toContain('blue, red');
  expect(part!.html).toContain('PCA explained variance');
});

test('is left out for runs from before feature engineering, and says so when nothing was transformed', async () => {
  expect(await featuresSection({ features: null } as unknown as RunReportInput)).toBeNull();
  const part = await featuresSection({
    features: { dropped: ['id'], categorical: [], categoricalChoice: 'list', transform: null },
  } as unknown as RunReportInput);
  expect(part!.html).toContain('No transform');
});
