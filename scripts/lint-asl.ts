// Validates statemachine/pipeline.asl.json as Amazon States Language (with placeholders filled by sample ARNs).
import aslValidator from 'asl-validator';
import { DEFINITION_PATH, loadDefinition } from '../statemachine/definition';

const sampleArn = (name: string) =>
  `arn:aws:lambda:us-east-1:123456789012:function:knn-pipeline-lint-${name.toLowerCase()}`;
const definition = loadDefinition(
  Object.fromEntries(
    ['Prepare', 'Split', 'Upload', 'Tuning', 'Evaluate', 'Promote', 'Cleanup', 'Report', 'Capacity'].map((name) => [
      `${name}FunctionArn`,
      sampleArn(name),
    ]),
  ),
);
const { isValid, errorsText } = aslValidator(definition);
if (!isValid) {
  console.error(`${DEFINITION_PATH} is not valid ASL:\n${errorsText('\n')}`);
  process.exit(1);
}
console.log(`${DEFINITION_PATH}: valid ASL (${Object.keys(definition.States).length} states)`);
