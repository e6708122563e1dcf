import { handler as prepare } from '../functions/prepare';
import { handler as split } from '../functions/split';
import { handler as upload } from '../functions/upload';
import { handler as evaluate } from '../functions/evaluate';
import { handler as cleanup } from '../functions/cleanup';
import { handler as promote } from '../functions/promote';
import { handler as report } from '../functions/report';
import { handler as janitorHandler } from '../functions/janitor';
import { lambdaContext, lambdaTask, type TaskHandler } from './stepfunctions/integrations';

/** The deployed functions by the names serverless.yml gives them, and the placeholders the definition uses. */
export const PIPELINE_FUNCTIONS = {
  Prepare: prepare,
  Split: split,
  Upload: upload,
  Evaluate: evaluate,
  Promote: promote,
  Cleanup: cleanup,
  Report: report,
} as const;

export function functionName(service: string, stage: string, name: string): string {
  return `${service}-${stage}-${name.toLowerCase()}`;
}

export function localLambdas(service: string, stage: string): Record<string, TaskHandler> {
  return Object.fromEntries(
    Object.entries(PIPELINE_FUNCTIONS).map(([name, handler]) => {
      const deployedName = functionName(service, stage, name);
      return [deployedName, lambdaTask(handler, deployedName)];
    }),
  );
}

/** The janitor as EventBridge invokes it in the local stage (knn-pipeline-local, see LOCAL): with a Lambda context. */
export function janitor(event: Parameters<typeof janitorHandler>[0]): ReturnType<typeof janitorHandler> {
  return janitorHandler(event, lambdaContext(functionName('knn-pipeline', 'local', 'Janitor')));
}
