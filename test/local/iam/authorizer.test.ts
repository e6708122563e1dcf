import { Authorizer } from '../../../local/iam/authorizer';
import { credentialsFor, principal, principalForAccessKey, PRINCIPAL_IDS } from '../../../local/iam/principals';
import { loadPolicies } from '../../../local/iam/template';

const BUCKET = 'arn:aws:s3:::knn-pipeline-local-data';
const ENDPOINTS = 'arn:aws:sagemaker:us-east-1:000000000000:endpoint';

describe('local IAM: decisions against the template (serverless.yml + resources/, stage local)', () => {
  let iam: Authorizer;

  beforeAll(async () => {
    // The first call prints the template with `serverless print` (~10 s), later ones read .local-cloud/iam.
    iam = new Authorizer(await loadPolicies());
  }, 120_000);

  it('gives every principal its own credentials, resolvable back to it', () => {
    const keys = PRINCIPAL_IDS.map((id) => credentialsFor(id).accessKeyId);
    expect(new Set(keys).size).toBe(PRINCIPAL_IDS.length);
    for (const id of PRINCIPAL_IDS) expect(principalForAccessKey(credentialsFor(id).accessKeyId)).toBe(id);
    expect(principalForAccessKey('AKIAUNKNOWN')).toBeUndefined();
    expect(credentialsFor('function:prepare').sessionToken).toBeDefined();
  });

  it('lets evaluate invoke its stage run endpoints and the serving endpoint, not another stage’s', async () => {
    const allowed = await iam.authorize({
      principal: 'function:evaluate',
      action: 'sagemaker:InvokeEndpoint',
      resource: `${ENDPOINTS}/knnp-local--run-1-endpoint`,
    });
    expect(allowed).toEqual({ allowed: true });
    expect(
      await iam.authorize({
        principal: 'function:evaluate',
        action: 'sagemaker:InvokeEndpoint',
        resource: `${ENDPOINTS}/knnp-local--serving`,
      }),
    ).toEqual({ allowed: true });
    const denied = await iam.authorize({
      principal: 'function:evaluate',
      action: 'sagemaker:InvokeEndpoint',
      resource: `${ENDPOINTS}/knnp-prod--run-1-endpoint`,
    });
    expect(denied).toMatchObject({ allowed: false, kind: 'implicit' });
    // Other functions have no InvokeEndpoint at all.
    expect(
      await iam.authorize({
        principal: 'function:report',
        action: 'sagemaker:InvokeEndpoint',
        resource: `${ENDPOINTS}/knnp-local--run-1-endpoint`,
      }),
    ).toMatchObject({ allowed: false });
  });

  it('lets the SageMaker role read channels under input/ but not fold channels under cv/ (the fold-channel bug)', async () => {
    expect(
      await iam.authorize({
        principal: 'sageMaker',
        action: 's3:GetObject',
        resource: `${BUCKET}/runs/x/input/train/train.csv`,
      }),
    ).toEqual({ allowed: true });
    const denied = await iam.authorize({
      principal: 'sageMaker',
      action: 's3:GetObject',
      resource: `${BUCKET}/runs/x/cv/fold-1/train/train.csv`,
    });
    const role = principal('sageMaker').roleName!;
    expect(denied).toMatchObject({
      allowed: false,
      kind: 'implicit',
      message:
        `User: arn:aws:sts::000000000000:assumed-role/${role}/SageMaker is not authorized to perform: s3:GetObject ` +
        `on resource: "${BUCKET}/runs/x/cv/fold-1/train/train.csv" because no identity-based policy allows the ` +
        's3:GetObject action',
    });
    expect(iam.denials.at(-1)).toMatchObject({
      principal: 'sageMaker',
      action: 's3:GetObject',
      resource: `${BUCKET}/runs/x/cv/fold-1/train/train.csv`,
    });
    // Model artifacts: written and read back under output/ only.
    expect(
      await iam.authorize({
        principal: 'sageMaker',
        action: 's3:PutObject',
        resource: `${BUCKET}/runs/x/output/j/model.tar.gz`,
      }),
    ).toEqual({ allowed: true });
    expect(
      await iam.authorize({
        principal: 'sageMaker',
        action: 's3:PutObject',
        resource: `${BUCKET}/runs/x/input/train/x.csv`,
      }),
    ).toMatchObject({ allowed: false });
  });

  it('applies s3:prefix conditions to ListBucket', async () => {
    const list = (prefix: string | undefined) =>
      iam.authorize({
        principal: 'sageMaker',
        action: 's3:ListBucket',
        resource: BUCKET,
        context: prefix === undefined ? {} : { 's3:prefix': prefix },
      });
    expect(await list('runs/x/input/')).toEqual({ allowed: true });
    expect(await list('raw/')).toMatchObject({ allowed: false });
    expect(await list(undefined)).toMatchObject({ allowed: false });
  });

  it('denies prepare a PutObject under raw/ through the bucket policy, though it may read raw/ and write runs/', async () => {
    expect(
      await iam.authorize({
        principal: 'function:prepare',
        action: 's3:GetObject',
        resource: `${BUCKET}/raw/iris.csv`,
      }),
    ).toEqual({ allowed: true });
    expect(
      await iam.authorize({
        principal: 'function:prepare',
        action: 's3:PutObject',
        resource: `${BUCKET}/runs/r/claim.json`,
      }),
    ).toEqual({ allowed: true });
    expect(
      await iam.authorize({
        principal: 'function:prepare',
        action: 's3:PutObject',
        resource: `${BUCKET}/raw/iris.csv`,
      }),
    ).toMatchObject({
      allowed: false,
      kind: 'explicit-resource',
      statements: ['DenyRawWritesByPipelineRoles'],
      message: expect.stringMatching(/with an explicit deny in a resource-based policy$/),
    });
  });

  it('gives the user full access, still under the bucket policy (which only denies the pipeline roles)', async () => {
    expect(
      await iam.authorize({ principal: 'user', action: 's3:PutObject', resource: `${BUCKET}/raw/iris.csv` }),
    ).toEqual({
      allowed: true,
    });
    expect(
      await iam.authorize({ principal: 'user', action: 'sagemaker:DeleteEndpoint', resource: `${ENDPOINTS}/anything` }),
    ).toEqual({ allowed: true });
  });

  it('checks iam:PassRole with iam:PassedToService for the state machine role', async () => {
    const role = principal('sageMaker').arn;
    const pass = (service: string, principalId: 'stateMachine' | 'function:cleanup' = 'stateMachine') =>
      iam.authorize({
        principal: principalId,
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': service },
      });
    expect(await pass('sagemaker.amazonaws.com')).toEqual({ allowed: true });
    expect(await pass('ec2.amazonaws.com')).toMatchObject({ allowed: false });
    expect(await pass('sagemaker.amazonaws.com', 'function:cleanup')).toMatchObject({ allowed: false });
    expect(
      await iam.authorize({
        principal: 'stateMachine',
        action: 'iam:PassRole',
        resource: principal('function:prepare').arn,
        context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
      }),
    ).toMatchObject({ allowed: false });
  });

  it('keeps the janitor’s PutEvents to the stage notification bus', async () => {
    expect(
      await iam.authorize({
        principal: 'function:janitor',
        action: 'events:PutEvents',
        resource: 'arn:aws:events:us-east-1:000000000000:event-bus/other-bus',
        context: { 'events:source': ['knn-pipeline'], 'events:detail-type': ['Pipeline Run Finished'] },
      }),
    ).toMatchObject({ allowed: false, kind: 'implicit' });
  });

  it('lets sagemaker.amazonaws.com assume the execution role only, per its trust policy', async () => {
    expect(await iam.canAssume(principal('sageMaker').arn, 'sagemaker.amazonaws.com')).toBe(true);
    expect(await iam.canAssume(principal('function:prepare').arn, 'sagemaker.amazonaws.com')).toBe(false);
    expect(await iam.canAssume(principal('sageMaker').arn, 'lambda.amazonaws.com')).toBe(false);
    expect(
      await iam.canAssume('arn:aws:iam::000000000000:role/knn-pipeline-local-sagemaker', 'sagemaker.amazonaws.com'),
    ).toBe(false);
    expect(iam.principalForRole(principal('sageMaker').arn)).toBe('sageMaker');
  });

  it('lets the state machine invoke the pipeline functions, not the janitor', async () => {
    const invoke = (name: string) =>
      iam.authorize({
        principal: 'stateMachine',
        action: 'lambda:InvokeFunction',
        resource: `arn:aws:lambda:us-east-1:000000000000:function:knn-pipeline-local-${name}`,
      });
    expect(await invoke('prepare')).toEqual({ allowed: true });
    expect(await invoke('report')).toEqual({ allowed: true });
    expect(await invoke('janitor')).toMatchObject({ allowed: false });
  });
});
