import { readFileSync } from 'node:fs';
import { DEFINITION_PATH } from '../../statemachine/definition';
import { BEGIN_MARKER, README_PATH, mermaidFromDefinition, readmeWithDiagram } from '../../scripts/diagram';

const definitionText = readFileSync(DEFINITION_PATH, 'utf8');

describe('README state-machine diagram', () => {
  test('is the one generated from statemachine/pipeline.asl.json (run `npm run diagram` when this fails)', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(readmeWithDiagram(readme, definitionText)).toBe(readme);
  });

  test('has every state of the definition and every Next, Choice and Catch edge', () => {
    const diagram = mermaidFromDefinition(JSON.parse(definitionText));
    expect(diagram).toContain('Train["Train<br/><small>sagemaker:createTrainingJob.sync</small>"]');
    expect(diagram).toContain('subgraph CrossValidate["CrossValidate (Map)"]');
    expect(diagram).toContain('IsEndpointInService --> WaitForEndpoint');
    expect(diagram).toContain('Train -.->|error| CleanUpAfterFailure');
    expect(diagram).toContain('PipelineFailed(("PipelineFailed")):::fail');
  });

  test('a README edited by hand inside the block is detected as stale', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    const edited = readme.replace('Split --> Upload', 'Split --> Train');
    expect(edited).not.toBe(readme);
    expect(readmeWithDiagram(edited, definitionText)).toBe(readme);
  });

  test('a README without the markers is an error, not a silent pass', () => {
    expect(() => readmeWithDiagram('# no diagram here\n', definitionText)).toThrow(BEGIN_MARKER);
  });
});
