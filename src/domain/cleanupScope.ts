// Apart from runConfig.ts so that Cleanup, which never parses input, does not bundle its zod schemas.
import type { RunConfig } from './runConfig';

/**
 * What a run's cleanup covers besides its endpoint, config and model: its fold jobs, its transform job (evaluation
 * mode batchTransform), its tuning job (tuning on), and in serving mode the stable endpoint.
 */
export function cleanupScope(
  run: Pick<RunConfig, 'crossValidation' | 'serve' | 'evaluation' | 'names'> & Partial<Pick<RunConfig, 'tuning'>>,
): {
  crossValidationFolds: number;
  transformJob?: string;
  tuningJob?: string;
  servingEndpoint?: string;
  servingConfig?: string;
} {
  return {
    crossValidationFolds: run.crossValidation?.folds ?? 0,
    transformJob: run.evaluation?.mode === 'batchTransform' ? run.names.transformJob : undefined,
    // Runs recorded before tuning existed carry no tuning section.
    tuningJob: run.tuning?.enabled ? run.names.tuningJob : undefined,
    servingEndpoint: run.serve?.enabled ? run.serve.endpointName : undefined,
    servingConfig: run.serve?.enabled ? run.serve.endpointConfigName : undefined,
  };
}
