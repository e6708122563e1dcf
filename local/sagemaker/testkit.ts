// Helpers for tests that drive the local SageMaker through the real SDK clients.
import type { CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';

export interface PollResult<T> {
  final: T;
  /** Every distinct consecutive value seen by `key`, in order (e.g. the status sequence). */
  observed: string[];
}

/** Polls `probe` every `intervalMs` until `isDone`, recording the distinct values of `key` along the way. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  key: (value: T) => string,
  isDone: (value: T) => boolean,
  { intervalMs = 10, timeoutMs = 15_000 }: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<PollResult<T>> {
  const observed: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    const current = key(value);
    if (observed.at(-1) !== current) observed.push(current);
    if (isDone(value)) return { final: value, observed };
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; observed ${observed.join(' → ')}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Headerless label-first CSV of three well-separated 4-feature clusters (labels 0, 1, 2), deterministic,
 * so a k-NN classifier scores 1.0 on rows drawn from the same clusters.
 */
export function clusteredCsv(rowsPerClass: number, offset = 0): string {
  const centres = [
    [0, 0, 0, 0],
    [10, 10, 10, 10],
    [20, 0, 20, 0],
  ];
  const lines: string[] = [];
  for (let i = 0; i < rowsPerClass; i++) {
    centres.forEach((centre, label) => {
      const jitter = (j: number) => Math.round(Math.sin((i + offset) * 7.13 + j * 3.7 + label) * 100) / 100;
      lines.push([label, ...centre.map((value, j) => value + jitter(j))].join(','));
    });
  }
  return `${lines.join('\n')}\n`;
}

export interface KnnJobRequestOptions {
  name: string;
  bucket: string;
  trainPrefix: string;
  testPrefix?: string;
  outputPath?: string;
  hyperParameters?: Record<string, string>;
  contentType?: string;
}

/** A CreateTrainingJob request as a built-in k-NN job sends it (File mode, text/csv channels). */
export function knnTrainingJobRequest(options: KnnJobRequestOptions): CreateTrainingJobCommandInput {
  const channel = (name: string, prefix: string) => ({
    ChannelName: name,
    ContentType: options.contentType ?? 'text/csv',
    DataSource: {
      S3DataSource: {
        S3DataType: 'S3Prefix' as const,
        S3Uri: `s3://${options.bucket}/${prefix}`,
        S3DataDistributionType: 'FullyReplicated' as const,
      },
    },
  });
  return {
    TrainingJobName: options.name,
    RoleArn: 'arn:aws:iam::123456789012:role/knn-sagemaker',
    AlgorithmSpecification: {
      TrainingImage: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1',
      TrainingInputMode: 'File',
    },
    HyperParameters: options.hyperParameters ?? {
      feature_dim: '4',
      k: '3',
      predictor_type: 'classifier',
      sample_size: '1000',
    },
    InputDataConfig: [
      channel('train', options.trainPrefix),
      ...(options.testPrefix ? [channel('test', options.testPrefix)] : []),
    ],
    OutputDataConfig: { S3OutputPath: options.outputPath ?? `s3://${options.bucket}/output` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  };
}
