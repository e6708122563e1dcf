// Apart from runConfig.ts so that Cleanup, which never parses input, does not bundle its zod schemas.
import type { RunConfig } from './runConfig';

/**
 * What a run's cleanup covers besides its endpoint, config and model: its fold jobs, its transform job (evaluation
 * mode batchTransform), and in serving mode the stable endpoint.
 */
export function cleanupScope(run: Pick<RunConfig, 'crossValidation' | 'serve' | 'evaluation' | 'names'>): {
  crossValidationFolds: number;
  transformJob?: string;
  servingEndpoint?: string;
  servingConfig?: string;
} {
  return {
    crossValidationFolds: run.crossValidation?.folds ?? 0,
    transformJob: run.evaluation?.mode === 'batchTransform' ? run.names.transformJob : undefined,
    servingEndpoint: run.serve?.enabled ? run.serve.endpointName : undefined,
    servingConfig: run.serve?.enabled ? run.serve.endpointConfigName : undefined,
  };
}
