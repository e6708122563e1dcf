// Tests never reach real AWS: fixed dummy credentials and region, and checksums as s3rver needs them.
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
process.env.AWS_REQUEST_CHECKSUM_CALCULATION ??= 'when_required';
process.env.AWS_RESPONSE_CHECKSUM_VALIDATION ??= 'when_required';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Lambda logs go to CloudWatch in AWS; in tests they would only drown the results.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
