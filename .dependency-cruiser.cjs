/**
 * Import rules that keep the layout honest (npm run lint:deps):
 * src/ is what deploys and depends on nothing outside itself; the local cloud never reaches into the CLI;
 * handlers never import each other; no cycles anywhere.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'src-is-self-contained',
      comment:
        'src/ is bundled into the Lambdas: it may not import functions/, local/, cli/, bench/, scripts/ or test/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(functions|local|cli|bench|scripts|test|statemachine)/' },
    },
    {
      name: 'local-not-cli',
      comment: 'The local cloud is a stand-in for AWS; the CLI drives it, never the other way round.',
      severity: 'error',
      from: { path: '^local/' },
      to: { path: '^(cli|bench|test)/' },
    },
    {
      name: 'handler-not-handler',
      comment: 'A handler is a thin entry point: shared code belongs in src/.',
      severity: 'error',
      from: { path: '^functions/([^/]+)' },
      to: { path: '^functions/', pathNot: '^functions/$1' },
    },
    {
      name: 'deployed-not-outward',
      comment: 'Handlers and the definition loader import only src/ (and node/npm modules).',
      severity: 'error',
      from: { path: '^(functions|statemachine)/' },
      to: { path: '^(local|cli|bench|scripts|test)/' },
    },
    {
      name: 'cli-programs-share-only-common',
      comment:
        'npm start (cli/start) and knn-pipeline (cli/knn-pipeline) share code through cli/common, never each other.',
      severity: 'error',
      from: { path: '^cli/(start|knn-pipeline)/' },
      to: { path: '^cli/(start|knn-pipeline)/', pathNot: '^cli/$1/' },
    },
    {
      name: 'cli-common-not-programs',
      comment: 'cli/common serves both programs, so it imports neither.',
      severity: 'error',
      from: { path: '^cli/common/' },
      to: { path: '^cli/(start|knn-pipeline)/' },
    },
    {
      name: 'cli-not-bench-or-tests',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(bench|test|scripts)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.serverless|\\.esbuild|coverage|scratch)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
