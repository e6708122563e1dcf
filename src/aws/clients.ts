import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

// Built on first use, not at import: the SDK reads AWS_ENDPOINT_URL_* when a client is constructed.
let s3: S3Client | undefined;
let sageMaker: SageMakerClient | undefined;
let sageMakerRuntime: SageMakerRuntimeClient | undefined;
let sfn: SFNClient | undefined;
let eventBridge: EventBridgeClient | undefined;

export function s3Client(): S3Client {
  // Path-style only when an endpoint override is set (local S3 has no virtual-host DNS); AWS keeps virtual hosts.
  s3 ??= new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) });
  return s3;
}

export function sageMakerClient(): SageMakerClient {
  sageMaker ??= new SageMakerClient({});
  return sageMaker;
}

export function sageMakerRuntimeClient(): SageMakerRuntimeClient {
  sageMakerRuntime ??= new SageMakerRuntimeClient({});
  return sageMakerRuntime;
}

export function sfnClient(): SFNClient {
  sfn ??= new SFNClient({});
  return sfn;
}

export function eventBridgeClient(): EventBridgeClient {
  eventBridge ??= new EventBridgeClient({});
  return eventBridge;
}

/** Forget the clients so the next call builds new ones (a new local cloud, a mocked client in tests). */
export function resetClients(): void {
  s3?.destroy();
  sageMaker?.destroy();
  sageMakerRuntime?.destroy();
  sfn?.destroy();
  eventBridge?.destroy();
  s3 = sageMaker = sageMakerRuntime = sfn = eventBridge = undefined;
}
