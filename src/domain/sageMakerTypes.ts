// The shapes RunConfig carries for SageMaker, apart from the builders, so runConfig.ts need not import them.

/**
 * The SageMaker requests of a run, built once so that optional settings (VPC, KMS keys) can be left out entirely
 * when unset — a JSONPath definition cannot omit a field conditionally. The state machine passes each request as
 * the Task's input (InputPath), unchanged.
 */
export interface SageMakerRequests {
  trainingJob: Record<string, unknown>;
  model: Record<string, unknown>;
  /** Evaluation mode endpoint: an instance-based endpoint config (CreateEndpointConfig). */
  endpointConfig?: Record<string, unknown>;
  /** Evaluation mode serverless: the same config name, a ServerlessConfig variant (CreateServerlessEndpointConfig). */
  serverlessEndpointConfig?: Record<string, unknown>;
  /** Evaluation modes endpoint and serverless (CreateEndpoint). */
  endpoint?: Record<string, unknown>;
  /** Evaluation mode batchTransform (Transform, createTransformJob.sync). */
  transformJob?: Record<string, unknown>;
  servingEndpointConfig: Record<string, unknown>;
  /** With tuning on (Tune, createHyperParameterTuningJob.sync): its jobs read the tuning channels. */
  tuningJob?: Record<string, unknown>;
}

/** Stage-level isolation and encryption settings (all optional). */
export interface SecuritySettings {
  vpc?: { subnets: string[]; securityGroupIds: string[] };
  trainingVolumeKmsKeyId?: string;
  trainingOutputKmsKeyId?: string;
  endpointKmsKeyId?: string;
}
