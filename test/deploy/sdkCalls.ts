/**
 * Static analysis of the AWS calls a Lambda handler can make: which AWS SDK v3 commands its code constructs,
 * following every import from functions/<name>.ts into src/, and which IAM actions they need.
 *
 * How: esbuild bundles the handler exactly as serverless-esbuild does (tree-shaken ES modules, so only code reachable
 * from the handler stays), but with every package external, so the output holds our own modules only and the SDK
 * imports stay readable (`import { GetObjectCommand } from "@aws-sdk/client-s3"`). Every `new XxxCommand(` of an
 * identifier imported from an `@aws-sdk/client-*` package is a call the handler may send. (The TypeScript compiler
 * API is not an option here: typescript 7 is the native compiler and ships no JavaScript API.)
 *
 * The analysis refuses what it cannot see through, so that a new call style cannot slip past it: an aggregated
 * client (`new S3().getObject()`), a namespace import of an SDK package, or an imported command that is used other
 * than with `new`.
 */
import { buildSync } from 'esbuild';
import { join, relative } from 'node:path';
import { PROJECT_DIR } from './helpers';

export interface SdkCommand {
  /** `@aws-sdk/client-s3` … */
  pkg: string;
  /** `GetObjectCommand` … */
  command: string;
}

export interface HandlerAnalysis {
  commands: SdkCommand[];
  /** Our own source files the bundle kept (project-relative), to show the imports were followed. */
  modules: string[];
}

const SDK_PACKAGE = /^@aws-sdk\/client-[a-z0-9-]+$/;

/**
 * SDK libraries that send commands themselves: what each constructed class may send. lib-storage's Upload sends one
 * PutObject below one part, else a multipart upload that it aborts when a part fails.
 */
const SDK_LIBRARIES: Record<string, Record<string, SdkCommand[]>> = {
  '@aws-sdk/lib-storage': {
    Upload: [
      'PutObjectCommand',
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
      'AbortMultipartUploadCommand',
    ].map((command) => ({ pkg: '@aws-sdk/client-s3', command })),
  },
};

export function analyseHandler(name: string): HandlerAnalysis {
  const result = buildSync({
    entryPoints: [join(PROJECT_DIR, 'functions', `${name}.ts`)],
    absWorkingDir: PROJECT_DIR,
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    treeShaking: true,
    minify: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  const modules = Object.keys(result.metafile!.inputs)
    .map((file) => relative(PROJECT_DIR, join(PROJECT_DIR, file)))
    .sort();

  /** local identifier → { package, imported name } for every named import of an SDK client package. */
  const imported = new Map<string, { pkg: string; name: string }>();
  for (const match of code.matchAll(/^import\s+([^;]*?)\s+from\s+"([^"]+)";/gms)) {
    const [, clause, pkg] = match;
    if (!SDK_PACKAGE.test(pkg) && !(pkg in SDK_LIBRARIES)) continue;
    const named = /^\{([^}]*)\}$/s.exec(clause.trim());
    if (!named)
      throw new Error(
        `functions/${name}.ts: cannot analyse "import ${clause} from '${pkg}'" (only named imports are followed)`,
      );
    for (const part of named[1]
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [importedName, local = importedName] = part.split(/\s+as\s+/).map((p) => p.trim());
      imported.set(local, { pkg, name: importedName });
    }
  }

  const commands = new Map<string, SdkCommand>();
  for (const [local, { pkg, name: importedName }] of imported) {
    const uses = [...code.matchAll(new RegExp(`(?<![\\w$.])${local.replace(/\$/g, '\\$')}(?![\\w$])`, 'g'))];
    // The import line itself is one occurrence.
    const constructed = [...code.matchAll(new RegExp(`new\\s+${local.replace(/\$/g, '\\$')}\\s*\\(`, 'g'))].length;
    // esbuild keeps an external import clause whole, even the names tree shaking left unused.
    if (uses.length - 1 === 0) continue;
    if (importedName.endsWith('Client')) continue; // clients only carry the calls; commands are what they send
    const library = SDK_LIBRARIES[pkg];
    if (library) {
      const sends = library[importedName];
      const constructedHere = [...code.matchAll(new RegExp(`new\\s+${local}\\s*\\(`, 'g'))].length;
      if (!sends || constructedHere !== uses.length - 1) {
        throw new Error(
          `functions/${name}.ts: ${pkg} "${importedName}" is not a class this analysis knows the calls of`,
        );
      }
      for (const command of sends) commands.set(`${command.pkg}:${command.command}`, command);
      continue;
    }
    if (!importedName.endsWith('Command')) {
      throw new Error(
        `functions/${name}.ts: ${pkg} export "${importedName}" is neither a client nor a command (aggregated clients cannot be analysed)`,
      );
    }
    if (constructed === 0 || constructed !== uses.length - 1) {
      throw new Error(
        `functions/${name}.ts: ${importedName} is used other than as "new ${importedName}(…)"; the analysis cannot follow it`,
      );
    }
    commands.set(`${pkg}:${importedName}`, { pkg, command: importedName });
  }
  return {
    commands: [...commands.values()].sort((a, b) => `${a.pkg}:${a.command}`.localeCompare(`${b.pkg}:${b.command}`)),
    modules,
  };
}

/**
 * The IAM actions of an SDK command. S3 names differ from its API names, so S3 commands are mapped one by one (an
 * unknown one fails the test until it is added here); the other services use `<prefix>:<Operation>`.
 */
const S3_ACTIONS: Record<string, { actions: string[]; why?: string }> = {
  GetObjectCommand: { actions: ['s3:GetObject'] },
  // Our HeadObject callers treat 404 as "absent" (src/aws/objects.ts headObject); S3 answers 404 rather than 403 for
  // a missing key only to a principal with s3:ListBucket on the bucket.
  HeadObjectCommand: {
    actions: ['s3:GetObject', 's3:ListBucket'],
    why: 'HeadObject of a key that may not exist must answer 404, not 403',
  },
  PutObjectCommand: { actions: ['s3:PutObject'] },
  // A multipart upload is authorised as PutObject, part by part; only aborting it is an action of its own.
  CreateMultipartUploadCommand: { actions: ['s3:PutObject'] },
  UploadPartCommand: { actions: ['s3:PutObject'] },
  CompleteMultipartUploadCommand: { actions: ['s3:PutObject'] },
  AbortMultipartUploadCommand: { actions: ['s3:AbortMultipartUpload'] },
  ListObjectsV2Command: { actions: ['s3:ListBucket'] },
  DeleteObjectCommand: { actions: ['s3:DeleteObject'] },
  CopyObjectCommand: { actions: ['s3:GetObject', 's3:PutObject'] },
};
const SERVICE_PREFIX: Record<string, string> = {
  '@aws-sdk/client-sagemaker': 'sagemaker',
  '@aws-sdk/client-sagemaker-runtime': 'sagemaker',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-eventbridge': 'events',
};

export function iamActionsOf({ pkg, command }: SdkCommand): string[] {
  if (pkg === '@aws-sdk/client-s3') {
    const mapped = S3_ACTIONS[command];
    if (!mapped)
      throw new Error(`no IAM mapping for ${pkg} ${command}: add it to S3_ACTIONS in test/deploy/sdkCalls.ts`);
    return mapped.actions;
  }
  const prefix = SERVICE_PREFIX[pkg];
  if (!prefix)
    throw new Error(`no IAM mapping for ${pkg}: add its action prefix to SERVICE_PREFIX in test/deploy/sdkCalls.ts`);
  return [`${prefix}:${command.replace(/Command$/, '')}`];
}

export function requiredActions(analysis: HandlerAnalysis): string[] {
  return [...new Set(analysis.commands.flatMap(iamActionsOf))].sort();
}
