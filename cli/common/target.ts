// What a command acts on: the Step Functions, S3 and SageMaker clients of one stage or local cloud, and its names.
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { SFNClient } from '@aws-sdk/client-sfn';

export interface Target {
  kind: 'local' | 'stage';
  /** For people: "local cloud (…)" or "stage dev in us-east-1". */
  description: string;
  /** The flags that pick this target again, for the follow-up commands a command suggests. */
  flags: string;
  region: string;
  stateMachineArn: string;
  bucket: string;
  rawPrefix: string;
  runsPrefix: string;
  sfn: SFNClient;
  s3: S3Client;
  sageMaker: SageMakerClient;
  /** InvokeEndpoint (`knn-pipeline predict`); absent where a command only reads runs. */
  sageMakerRuntime?: SageMakerRuntimeClient;
  /** How often watch-like loops poll: the local cloud answers in milliseconds, AWS is rate limited. */
  pollMs: number;
  /** Where the local S3 keeps an object's bytes (local cloud only). */
  localPath?: (key: string) => string;
}
