#!/usr/bin/env node
// `knn-pipeline`: operate pipeline runs from the terminal (see cli/knn-pipeline/program.ts). Run it with
// `npx knn-pipeline …` (cli/knn-pipeline/bin.cjs runs this file's bundle, cli/launch.cjs) or
// `npm run knn-pipeline -- …`.
import { runCli } from './program';

export async function main(args: string[]): Promise<void> {
  // The SDK's "Node 22 needed from 2027" notice concerns the Lambda runtime decision, not this command line.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Piped into `head` and the like: a closed stdout ends the command quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  process.exitCode = await runCli(args);
}

if (require.main === module) {
  void main(process.argv.slice(2));
}
