// A run's artifacts (manifest, split, claim, metrics, serving): schemas, types, and the codec that checks them.
// Handlers use the types only (zod stays out of their bundles); the CLI decodes what it reads with the codec.
export * from './predictorType';
export * from './evaluationMode';
export * from './schemas';
export * from './codec';
