// A leaf module without zod: src/domain (and the handlers' bundles) can use the modes without the schemas.
/**
 * How the model is scored on the test rows: a real-time `endpoint` (the default), a `serverless` endpoint (pay per
 * request, no instance) or a `batchTransform` job (no endpoint at all). docs/modes.md compares them.
 */
export const EVALUATION_MODES = ['endpoint', 'batchTransform', 'serverless'] as const;
export type EvaluationMode = (typeof EVALUATION_MODES)[number];
