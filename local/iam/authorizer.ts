import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { principal as principalOf, principals, type PrincipalId } from './principals';
import { LOCAL_STACK, type PolicyDocument, type ResolvedPolicies } from './template';

/**
 * The local cloud's IAM: every request of a principal is evaluated, with @cloud-copilot/iam-simulate, against the
 * identity policies of the principal's role and (for the data bucket) the bucket policy, exactly as the template
 * deploys them. The person at the keyboard (`user`) has full access but is still subject to the bucket policy.
 *
 * Loopback HTTP stands in for AWS's TLS endpoints: every request counts as aws:SecureTransport = true.
 */

export type ContextValue = string | string[];

export interface AuthorizationRequest {
  principal: PrincipalId;
  /** service:Action, e.g. s3:GetObject. */
  action: string;
  /** The ARN the action is on (arn:aws:s3:::bucket/key, arn:aws:sagemaker:…:endpoint/name, …). */
  resource: string;
  /** Request condition keys (s3:prefix, iam:PassedToService, events:source, …). */
  context?: Record<string, ContextValue>;
}

export interface Denial {
  principal: PrincipalId;
  /** The ARN the request was made with (assumed-role session or the user). */
  principalArn: string;
  action: string;
  resource: string;
  /** implicit: no policy allows it; explicit: a Deny statement matched (identity- or resource-based). */
  kind: 'implicit' | 'explicit-identity' | 'explicit-resource';
  /** The message AWS answers with. */
  message: string;
  /** Sids (or positions) of the Deny statements that matched, for an explicit denial. */
  statements: string[];
  at: string;
}

export type Decision = { allowed: true } | ({ allowed: false } & Denial);

const FULL_ACCESS: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'LocalDeveloperFullAccess', Effect: 'Allow', Action: '*', Resource: '*' }],
};

interface StatementExplain {
  identifier?: string;
}
interface PolicyAnalysis {
  result?: string;
  denyStatements?: { explain?: StatementExplain; statement?: { sid?: () => string | undefined } }[];
}

function denyIdentifiers(analysis: PolicyAnalysis | undefined): string[] {
  return (analysis?.denyStatements ?? []).map((entry) => entry.explain?.identifier ?? '?');
}

export interface AuthorizerOptions {
  /** Keep at most this many denials (oldest dropped). */
  maxDenials?: number;
  /** Called on each denial (e.g. a log line). */
  onDenial?: (denial: Denial) => void;
}

export class Authorizer {
  /** Every denial, oldest first: principal, action, resource and AWS's message. */
  readonly denials: Denial[] = [];
  private readonly cache = new Map<string, Promise<Decision>>();
  private readonly roleByArn = new Map<string, string>();
  private readonly trustCache = new Map<string, Promise<boolean>>();

  constructor(
    readonly policies: ResolvedPolicies,
    private readonly options: AuthorizerOptions = {},
  ) {
    for (const role of Object.values(policies.roles)) this.roleByArn.set(role.arn, role.logicalId);
    for (const p of principals()) {
      if (p.roleLogicalId && !policies.roles[p.roleLogicalId]) {
        throw new Error(`local IAM: the template has no role ${p.roleLogicalId} for principal ${p.id}`);
      }
    }
    void this.warmUp();
  }

  /**
   * The evaluator loads each service's action data on first use (tens of milliseconds): one evaluation per service
   * while the local cloud starts keeps that off the first real requests. Nothing is recorded or cached.
   */
  private async warmUp(): Promise<void> {
    const samples: [string, string][] = [
      ['s3:GetObject', `arn:aws:s3:::${this.policies.bucket}/warm-up`],
      [
        'sagemaker:CreateTrainingJob',
        `arn:aws:sagemaker:${LOCAL_STACK.region}:${LOCAL_STACK.account}:training-job/warm-up`,
      ],
      ['sagemaker:AddTags', `arn:aws:sagemaker:${LOCAL_STACK.region}:${LOCAL_STACK.account}:model/warm-up`],
      ['iam:PassRole', `arn:aws:iam::${LOCAL_STACK.account}:role/warm-up`],
      ['lambda:InvokeFunction', `arn:aws:lambda:${LOCAL_STACK.region}:${LOCAL_STACK.account}:function:warm-up`],
      ['states:GetExecutionHistory', `arn:aws:states:${LOCAL_STACK.region}:${LOCAL_STACK.account}:execution:w:w`],
      ['events:PutEvents', `arn:aws:events:${LOCAL_STACK.region}:${LOCAL_STACK.account}:event-bus/default`],
    ];
    for (const [action, resource] of samples) {
      await this.evaluate({ principal: 'stateMachine', action, resource }).catch(() => undefined);
    }
  }

  private identityPolicies(id: PrincipalId): { name: string; policy: PolicyDocument }[] {
    const logicalId = principalOf(id).roleLogicalId;
    if (!logicalId) return [{ name: 'LocalDeveloperFullAccess', policy: FULL_ACCESS }];
    return this.policies.roles[logicalId].policies.map((policy) => ({ name: policy.name, policy: policy.document }));
  }

  /** The data bucket's policy for a request on the bucket or one of its objects; none for other resources. */
  private resourcePolicy(resource: string): PolicyDocument | undefined {
    const bucketArn = `arn:${LOCAL_STACK.partition}:s3:::${this.policies.bucket}`;
    return resource === bucketArn || resource.startsWith(`${bucketArn}/`) ? this.policies.bucketPolicy : undefined;
  }

  /** Allowed, or the denial (recorded in `denials`) with AWS's message. */
  async authorize(request: AuthorizationRequest): Promise<Decision> {
    const key = JSON.stringify([request.principal, request.action, request.resource, request.context ?? {}]);
    let decision = this.cache.get(key);
    if (!decision) {
      if (this.cache.size >= 10_000) this.cache.clear(); // decisions repeat per run; keep memory bounded
      decision = this.evaluate(request);
      this.cache.set(key, decision);
      decision.catch(() => this.cache.delete(key));
    }
    const result = await decision;
    if (!result.allowed) {
      const denial: Denial = { ...result, at: new Date().toISOString() };
      delete (denial as Partial<Decision>).allowed;
      this.denials.push(denial);
      const max = this.options.maxDenials ?? 1000;
      if (this.denials.length > max) this.denials.splice(0, this.denials.length - max);
      this.options.onDenial?.(denial);
      return { allowed: false, ...denial };
    }
    return result;
  }

  private async evaluate(request: AuthorizationRequest): Promise<Decision> {
    const who = principalOf(request.principal);
    const roleArn = who.roleLogicalId ? this.policies.roles[who.roleLogicalId].arn : who.arn;
    const simulation: Simulation = {
      request: {
        principal: who.sessionArn,
        action: request.action,
        resource: { resource: request.resource, accountId: LOCAL_STACK.account },
        contextVariables: {
          'aws:SecureTransport': 'true',
          'aws:PrincipalArn': roleArn,
          'aws:PrincipalAccount': LOCAL_STACK.account,
          'aws:PrincipalType': who.roleLogicalId ? 'AssumedRole' : 'User',
          'aws:RequestedRegion': LOCAL_STACK.region,
          ...request.context,
        },
      },
      identityPolicies: this.identityPolicies(request.principal),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: this.resourcePolicy(request.resource),
    };
    const response = await runSimulation(simulation, {});
    if (response.resultType === 'error') {
      throw new Error(
        `local IAM: cannot evaluate ${request.action} on ${request.resource}: ${JSON.stringify(response.errors)}`,
      );
    }
    if (response.resultType !== 'single') {
      throw new Error(`local IAM: ${request.action} on ${request.resource} is not a single resource`);
    }
    if (response.overallResult === 'Allowed') return { allowed: true };
    const analysis = response.result.analysis as
      { identityAnalysis?: PolicyAnalysis; resourceAnalysis?: PolicyAnalysis } | undefined;
    const identityDeny = analysis?.identityAnalysis?.result === 'ExplicitlyDenied';
    const resourceDeny = analysis?.resourceAnalysis?.result === 'ExplicitlyDenied';
    const kind = identityDeny ? 'explicit-identity' : resourceDeny ? 'explicit-resource' : 'implicit';
    const because =
      kind === 'implicit'
        ? `because no identity-based policy allows the ${request.action} action`
        : `with an explicit deny in ${kind === 'explicit-identity' ? 'an identity-based' : 'a resource-based'} policy`;
    return {
      allowed: false,
      principal: request.principal,
      principalArn: who.sessionArn,
      action: request.action,
      resource: request.resource,
      kind,
      message: `User: ${who.sessionArn} is not authorized to perform: ${request.action} on resource: "${request.resource}" ${because}`,
      statements: identityDeny
        ? denyIdentifiers(analysis?.identityAnalysis)
        : resourceDeny
          ? denyIdentifiers(analysis?.resourceAnalysis)
          : [],
      at: '',
    };
  }

  /**
   * Whether `service` (e.g. sagemaker.amazonaws.com) may assume the role with this ARN: the role exists in the
   * template and its trust policy allows sts:AssumeRole for the service on behalf of the local account.
   */
  canAssume(roleArn: string, service: string): Promise<boolean> {
    const key = `${roleArn}\n${service}`;
    let decision = this.trustCache.get(key);
    if (!decision) {
      decision = this.evaluateTrust(roleArn, service);
      this.trustCache.set(key, decision);
    }
    return decision;
  }

  private async evaluateTrust(roleArn: string, service: string): Promise<boolean> {
    const logicalId = this.roleByArn.get(roleArn);
    if (!logicalId) return false;
    const response = await runSimulation(
      {
        request: {
          principal: service,
          action: 'sts:AssumeRole',
          resource: { resource: roleArn, accountId: LOCAL_STACK.account },
          contextVariables: { 'aws:SourceAccount': LOCAL_STACK.account, 'aws:SecureTransport': 'true' },
        },
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: this.policies.roles[logicalId].trustPolicy,
      },
      {},
    );
    return response.resultType === 'single' && response.overallResult === 'Allowed';
  }

  /** The principal acting with a role ARN of the template (the SageMaker execution role → sageMaker). */
  principalForRole(roleArn: string): PrincipalId | undefined {
    const logicalId = this.roleByArn.get(roleArn);
    return principals().find((p) => p.roleLogicalId === logicalId && logicalId !== undefined)?.id;
  }
}
