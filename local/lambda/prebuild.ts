// Builds the local Lambda's bundles (the runtime and every function of serverless.yml) into their cache ahead of the
// first run: `npm ci` runs it through cli/launch.cjs --build (package.json `prepare`), so a first `npm start` finds
// them built. The cache is the one LambdaInvoker.prepare reads, and rebuilds from whenever a source changed.
import { serverlessFunctions } from './config';
import { LambdaInvoker } from './invoker';

export async function main(): Promise<void> {
  const invoker = new LambdaInvoker({
    functions: serverlessFunctions(),
    functionName: (key) => key,
    region: 'us-east-1',
    account: '000000000000',
    environment: () => ({}),
  });
  await invoker.prepare();
}
