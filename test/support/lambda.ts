import { STAGE_ENV } from '../../src/config/stage';

/** The Lambda environment serverless.yml gives every function, for handler tests. */
export function setStageEnv(overrides: Record<string, string> = {}): void {
  Object.assign(process.env, {
    [STAGE_ENV.dataBucket]: 'knn-pipeline-dev-data',
    [STAGE_ENV.namePrefix]: 'knnp-dev',
    [STAGE_ENV.knnImage]: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1',
    [STAGE_ENV.sageMakerRoleArn]: 'arn:aws:iam::123456789012:role/knn-pipeline-dev-sagemaker',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...overrides,
  });
}

/** A GetObject body as the SDK returns it (only the method our adapters use). */
export function body(content: string | Uint8Array) {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return { transformToByteArray: async () => bytes } as any;
}

export function notFound() {
  return Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
}
