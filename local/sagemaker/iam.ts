// IAM of the local SageMaker (control plane and runtime): the caller from its SigV4 key, the action and resources of
// each operation, iam:PassRole of the roles it passes, sagemaker:AddTags when it sends Tags, and the trust policy of
// the role SageMaker is to act with.
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthorizationRequest } from '../iam/authorizer';
import { accessKeyOfRequest, principalForAccessKey, type PrincipalId } from '../iam/principals';
import { resourceArn, type Json, type LocalSageMakerContext, type ResourceKind } from './context';
import { SageMakerApiError } from './errors';

const SAGEMAKER_SERVICE = 'sagemaker.amazonaws.com';
/** A role ARN; anything else is answered by the operation's own validation (no PassRole or trust check). */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
/** SageMaker resource names (1-63 alphanumerics and hyphens). */
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** The caller of a request, or the error AWS answers for a missing or unknown key. */
export function callerOf(headers: IncomingHttpHeaders, url: string | undefined): PrincipalId {
  const accessKey = accessKeyOfRequest(headers, url);
  if (!accessKey) {
    throw new SageMakerApiError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  }
  const principal = principalForAccessKey(accessKey);
  if (!principal) {
    throw new SageMakerApiError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      400,
    );
  }
  return principal;
}

/** The resource each operation is authorised on (name field → kind); list operations are on "*". */
const RESOURCE_OF: Record<string, [ResourceKind, string] | '*' | 'ResourceArn'> = {
  CreateTrainingJob: ['training-job', 'TrainingJobName'],
  DescribeTrainingJob: ['training-job', 'TrainingJobName'],
  StopTrainingJob: ['training-job', 'TrainingJobName'],
  ListTrainingJobs: '*',
  CreateHyperParameterTuningJob: ['hyper-parameter-tuning-job', 'HyperParameterTuningJobName'],
  DescribeHyperParameterTuningJob: ['hyper-parameter-tuning-job', 'HyperParameterTuningJobName'],
  StopHyperParameterTuningJob: ['hyper-parameter-tuning-job', 'HyperParameterTuningJobName'],
  ListTrainingJobsForHyperParameterTuningJob: ['hyper-parameter-tuning-job', 'HyperParameterTuningJobName'],
  CreateTransformJob: ['transform-job', 'TransformJobName'],
  DescribeTransformJob: ['transform-job', 'TransformJobName'],
  StopTransformJob: ['transform-job', 'TransformJobName'],
  ListTransformJobs: '*',
  CreateModel: ['model', 'ModelName'],
  DescribeModel: ['model', 'ModelName'],
  DeleteModel: ['model', 'ModelName'],
  ListModels: '*',
  CreateEndpointConfig: ['endpoint-config', 'EndpointConfigName'],
  DescribeEndpointConfig: ['endpoint-config', 'EndpointConfigName'],
  DeleteEndpointConfig: ['endpoint-config', 'EndpointConfigName'],
  ListEndpointConfigs: '*',
  CreateEndpoint: ['endpoint', 'EndpointName'],
  DescribeEndpoint: ['endpoint', 'EndpointName'],
  DeleteEndpoint: ['endpoint', 'EndpointName'],
  UpdateEndpoint: ['endpoint', 'EndpointName'],
  ListEndpoints: '*',
  AddTags: 'ResourceArn',
  ListTags: 'ResourceArn',
  DeleteTags: 'ResourceArn',
};

/** The role a Create* operation hands to SageMaker (iam:PassRole, and SageMaker must be able to assume it). */
function roleToPass(operation: string, input: Json): unknown {
  if (operation === 'CreateTrainingJob') return input.RoleArn;
  if (operation === 'CreateModel') return input.ExecutionRoleArn;
  if (operation === 'CreateHyperParameterTuningJob') return (input.TrainingJobDefinition as Json | undefined)?.RoleArn;
  return undefined;
}

/** Every authorisation an operation needs, in the order SageMaker checks them. */
export function controlPlaneChecks(
  context: Pick<LocalSageMakerContext, 'region' | 'accountId'>,
  principal: PrincipalId,
  operation: string,
  input: Json,
): AuthorizationRequest[] {
  const spec = Object.hasOwn(RESOURCE_OF, operation) ? RESOURCE_OF[operation] : undefined;
  if (!spec) return []; // an unknown operation is answered UnknownOperationException by the router
  const action = `sagemaker:${operation}`;
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  if (spec === '*') return [{ principal, action, resource: '*' }];
  if (spec === 'ResourceArn') {
    const arn = text(input.ResourceArn);
    return /^arn:aws[a-z-]*:sagemaker:/.test(arn) ? [{ principal, action, resource: arn }] : [];
  }
  const [kind, field] = spec;
  // A missing or malformed name is answered ValidationException by the operation's own validation.
  if (!SAGEMAKER_NAME.test(text(input[field]))) return [];
  const resource = resourceArn(context, kind, text(input[field]));
  const checks: AuthorizationRequest[] = [{ principal, action, resource }];
  // CreateEndpoint / UpdateEndpoint are authorised on the endpoint and on the endpoint config it is to use.
  if ((operation === 'CreateEndpoint' || operation === 'UpdateEndpoint') && text(input.EndpointConfigName)) {
    checks.push({
      principal,
      action,
      resource: resourceArn(context, 'endpoint-config', text(input.EndpointConfigName)),
    });
  }
  const passed = roleToPass(operation, input);
  if (typeof passed === 'string' && ROLE_ARN.test(passed)) {
    checks.push({
      principal,
      action: 'iam:PassRole',
      resource: passed,
      context: { 'iam:PassedToService': SAGEMAKER_SERVICE },
    });
  }
  if (operation.startsWith('Create') && Array.isArray(input.Tags) && input.Tags.length > 0) {
    checks.push({ principal, action: 'sagemaker:AddTags', resource });
  }
  return checks;
}

/**
 * Authorises a control-plane request (throws AccessDeniedException, SageMaker's 400 JSON error), then checks that
 * SageMaker may assume the role it is to act with (RoleArn / ExecutionRoleArn), as the real service validates.
 */
export async function authorizeControlPlane(
  context: LocalSageMakerContext,
  headers: IncomingHttpHeaders,
  url: string | undefined,
  operation: string,
  input: Json,
): Promise<void> {
  const authorizer = context.authorizer;
  if (!authorizer) return;
  const principal = callerOf(headers, url);
  // Evaluated together (the first denial in check order is the one answered).
  const decisions = await Promise.all(
    controlPlaneChecks(context, principal, operation, input).map((check) => authorizer.authorize(check)),
  );
  const denied = decisions.find((decision) => !decision.allowed);
  if (denied && !denied.allowed) throw new SageMakerApiError('AccessDeniedException', denied.message, 400);
  const role = roleToPass(operation, input);
  if (typeof role === 'string' && ROLE_ARN.test(role) && !(await authorizer.canAssume(role, SAGEMAKER_SERVICE))) {
    throw new SageMakerApiError(
      'ValidationException',
      `Could not assume role ${role}. Please ensure that the role exists and allows principal '${SAGEMAKER_SERVICE}' to assume the role.`,
    );
  }
}

/** sagemaker:InvokeEndpoint on the endpoint (runtime); AccessDeniedException 403 when denied. */
export async function authorizeInvocation(
  context: LocalSageMakerContext,
  headers: IncomingHttpHeaders,
  url: string | undefined,
  endpointName: string,
): Promise<void> {
  const authorizer = context.authorizer;
  if (!authorizer) return;
  const principal = callerOf(headers, url);
  const decision = await authorizer.authorize({
    principal,
    action: 'sagemaker:InvokeEndpoint',
    resource: resourceArn(context, 'endpoint', endpointName),
  });
  if (!decision.allowed) throw new SageMakerApiError('AccessDeniedException', decision.message, 403);
}
