// A run's artifacts (manifest, split, claim, metrics, serving): schemas, types, and typed S3 readers and writers.
// Code that must not pull in the AWS SDK (e.g. the report in a browser-like test) can import ./codec and ./schemas.
export * from './predictorType';
export * from './schemas';
export * from './codec';
export * from './store';
