import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { principal } from '../../../local/iam/principals';
import {
  IntrinsicResolver,
  LOCAL_STACK,
  loadPolicies,
  policyParams,
  resolvePolicies,
} from '../../../local/iam/template';

describe('local IAM template: intrinsics resolved for the local stage', () => {
  const template = {
    Parameters: { Subnets: { Default: 'subnet-1,subnet-2' }, Key: { Default: '' } },
    Conditions: {
      HasKey: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Key' }, ''] }] },
      HasSubnets: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Subnets' }, ''] }] },
      Either: { 'Fn::Or': [{ Condition: 'HasKey' }, { Condition: 'HasSubnets' }] },
    },
    Resources: {
      DataBucket: { Type: 'AWS::S3::Bucket', Properties: {} },
      SageMakerExecutionRole: { Type: 'AWS::IAM::Role', Properties: {} },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/custom/logs' } },
    },
  };
  const resolver = new IntrinsicResolver(template, LOCAL_STACK, ['prepare']);

  it('resolves Fn::Sub (pseudo parameters, Ref, GetAtt, variables, ${!literal}) and generated names', () => {
    expect(
      resolver.resolve({
        'Fn::Sub': 'arn:${AWS::Partition}:s3:::${DataBucket}/${!x}/${AWS::Region}:${AWS::AccountId}',
      }),
    ).toBe('arn:aws:s3:::knn-pipeline-local-data/${x}/us-east-1:000000000000');
    expect(resolver.resolve({ 'Fn::Sub': ['${A}-${B}', { A: 'a', B: { Ref: 'AWS::StackName' } }] })).toBe(
      'a-knn-pipeline-local',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': ['SageMakerExecutionRole', 'Arn'] })).toBe(principal('sageMaker').arn);
    expect(resolver.resolve({ 'Fn::Sub': '${SageMakerExecutionRole.Arn}' })).toBe(principal('sageMaker').arn);
    expect(resolver.resolve({ 'Fn::GetAtt': ['PrepareLambdaFunction', 'Arn'] })).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:knn-pipeline-local-prepare',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': ['PrepareLogGroup', 'Arn'] })).toBe(
      'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/knn-pipeline-local-prepare:*',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': ['Logs', 'Arn'] })).toBe(
      'arn:aws:logs:us-east-1:000000000000:log-group:/custom/logs:*',
    );
  });

  it('resolves Fn::If with conditions, dropping AWS::NoValue from lists and objects', () => {
    expect(
      resolver.resolve([
        { 'Fn::If': ['HasKey', 'key', { Ref: 'AWS::NoValue' }] },
        { 'Fn::If': ['Either', 'either', 'neither'] },
        { a: { Ref: 'AWS::NoValue' }, b: 1 },
      ]),
    ).toEqual(['either', { b: 1 }]);
  });

  it('resolves Fn::Split, Fn::Join and Fn::Select of parameter defaults', () => {
    expect(resolver.resolve({ 'Fn::Split': [',', { Ref: 'Subnets' }] })).toEqual(['subnet-1', 'subnet-2']);
    expect(
      resolver.resolve({
        'Fn::Join': [
          '',
          [
            'arn:*:ec2:*:*:subnet/',
            { 'Fn::Join': [',arn:*:ec2:*:*:subnet/', { 'Fn::Split': [',', { Ref: 'Subnets' }] }] },
          ],
        ],
      }),
    ).toBe('arn:*:ec2:*:*:subnet/subnet-1,arn:*:ec2:*:*:subnet/subnet-2');
    expect(resolver.resolve({ 'Fn::Select': [1, { 'Fn::Split': ['.', 'a.b.c'] }] })).toBe('b');
  });

  it('fails loudly on what it cannot resolve', () => {
    expect(() => resolver.resolve({ Ref: 'Missing' })).toThrow(/unknown logical id Missing/);
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'x' })).toThrow(/unsupported intrinsic Fn::ImportValue/);
  });

  it('resolves every role and the bucket policy of the real template completely', async () => {
    const policies = await loadPolicies();
    const text = JSON.stringify(policies);
    expect(text).not.toMatch(/Fn::|"Ref"|"Condition":\{"Fn|\$\{/);
    expect(Object.keys(policies.roles).sort()).toEqual(
      [
        'CapacityFunctionRole',
        'CleanupFunctionRole',
        'EvaluateFunctionRole',
        'JanitorFunctionRole',
        'PrepareFunctionRole',
        'PromoteFunctionRole',
        'ReportFunctionRole',
        'SageMakerExecutionRole',
        'SplitFunctionRole',
        'StateMachineRole',
        'TuningFunctionRole',
        'UploadFunctionRole',
      ].sort(),
    );
    expect(policies.bucket).toBe('knn-pipeline-local-data');
    expect(policies.roles.SageMakerExecutionRole.arn).toBe(principal('sageMaker').arn);
  }, 120_000);

  it('passes only policy-relevant params to the template and caches by their hash', async () => {
    expect(policyParams({ k: '5', labelColumn: 'x', rawPrefix: 'in/', namePrefix: 'knnp-x', serve: 'true' })).toEqual({
      namePrefix: 'knnp-x',
      rawPrefix: 'in/',
    });
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'iam-cache-'));
    try {
      const first = await loadPolicies({ cacheDir, params: { rawPrefix: 'incoming/' } });
      expect(JSON.stringify(first.bucketPolicy)).toContain('arn:aws:s3:::knn-pipeline-local-data/incoming/*');
      expect(readdirSync(cacheDir)).toHaveLength(1);
      const [cached] = readdirSync(cacheDir);
      const written = statSync(path.join(cacheDir, cached)).mtimeMs;
      const again = await loadPolicies({ cacheDir, params: { rawPrefix: 'incoming/', k: '7' } }); // k changes no policy
      expect(again).toEqual(first);
      // Served from the cache: the same file, not rewritten by a new serverless print.
      expect(readdirSync(cacheDir)).toEqual([cached]);
      expect(statSync(path.join(cacheDir, cached)).mtimeMs).toBe(written);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('resolvePolicies', () => {
  it('needs the data bucket and its policy', () => {
    expect(() => resolvePolicies({ resources: { Resources: {} } })).toThrow(/DataBucket and DataBucketPolicy/);
  });
});
