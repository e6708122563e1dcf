// Apart from runConfig.ts so that Cleanup, which never parses input, does not bundle its zod schemas.
import type { RunConfig } from './runConfig';

/** What a run's cleanup covers besides its own names: its fold jobs, and in serving mode the stable endpoint. */
export function cleanupScope(run: Pick<RunConfig, 'crossValidation' | 'serve'>): {
  crossValidationFolds: number;
  servingEndpoint?: string;
  servingConfig?: string;
} {
  return {
    crossValidationFolds: run.crossValidation?.folds ?? 0,
    servingEndpoint: run.serve?.enabled ? run.serve.endpointName : undefined,
    servingConfig: run.serve?.enabled ? run.serve.endpointConfigName : undefined,
  };
}
