import { readServerlessConfig } from '../../local/serverlessConfig';
/**
 * The optional VPC and KMS params (scripts/serverless-vars.js, serverless.yml): refused at package time when IAM could
 * not scope them, and the CloudFormation AllowedPattern (for values given at deploy time) says the same thing.
 * Also: how far the name-prefix IAM patterns isolate two stages of one account and region.
 */
import { iamMatches } from './leastPrivilege';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const vars = require('../../scripts/serverless-vars.js') as {
  SUBNET_LIST: RegExp;
  SECURITY_GROUP_LIST: RegExp;
  KMS_KEY_ARN: RegExp;
  assertVpcParams(subnets: string, securityGroups: string): { subnets: string; securityGroups: string };
  assertKmsKeyArn(name: string, value: string): string;
  defaultNamePrefix(stage: string): string;
};
const config = readServerlessConfig();
const parameters = config.resources.Parameters;
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('VPC params', () => {
  test.each([
    ['', ''],
    ['subnet-0a1b2c3d', 'sg-0123abcd'],
    ['subnet-0a1b2c3d,subnet-0e5f6a7b', 'sg-0123abcd,sg-4567ef01'],
  ])('accepted: %j / %j', (subnets, groups) => {
    expect(vars.assertVpcParams(subnets, groups)).toEqual({ subnets, securityGroups: groups });
  });

  test.each([
    ['subnet-0a1b2c3d', '', /together/],
    ['', 'sg-0123abcd', /together/],
    ['subnet-0a1b2c3d, subnet-0e5f6a7b', 'sg-0123abcd', /vpcSubnetIds/],
    ['subnet-*', 'sg-0123abcd', /vpcSubnetIds/],
    ['subnet-0a1b2c3d', 'sg-0123abcd,*', /vpcSecurityGroupIds/],
    ['vpc-0a1b2c3d', 'sg-0123abcd', /vpcSubnetIds/],
  ])('refused: %j / %j', (subnets, groups, message) => {
    expect(() => vars.assertVpcParams(subnets, groups)).toThrow(message);
  });
});

describe('KMS key params', () => {
  test.each([
    '',
    KEY,
    'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd',
    'arn:aws-cn:kms:cn-north-1:123456789012:key/abc',
  ])('accepted: %j', (value) => {
    expect(vars.assertKmsKeyArn('endpointKmsKeyId', value)).toBe(value);
  });

  test.each([
    '1234abcd-12ab-34cd-56ef-1234567890ab',
    'alias/my-key',
    'arn:aws:kms:us-east-1:123456789012:alias/my-key',
    'arn:aws:kms:*:*:key/*',
    `${KEY} `,
    '*',
  ])('refused (IAM can only name a key by its key ARN): %j', (value) => {
    expect(() => vars.assertKmsKeyArn('endpointKmsKeyId', value)).toThrow(/endpointKmsKeyId/);
  });
});

test('the CloudFormation AllowedPatterns are the package-time rules (or empty)', () => {
  expect(parameters.VpcSubnetIds.AllowedPattern).toBe(`^$|${vars.SUBNET_LIST.source}`);
  expect(parameters.VpcSecurityGroupIds.AllowedPattern).toBe(`^$|${vars.SECURITY_GROUP_LIST.source}`);
  for (const name of ['TrainingVolumeKmsKeyId', 'TrainingOutputKmsKeyId', 'EndpointKmsKeyId']) {
    expect(parameters[name].AllowedPattern).toBe(`^$|${vars.KMS_KEY_ARN.source.replace(/\\\//g, '/')}`);
  }
});

describe('stage isolation by name prefix', () => {
  const sm = (kind: string, name: string) => `arn:aws:sagemaker:us-east-1:123456789012:${kind}/${name}`;

  test('stages whose prefixes do not nest are isolated', () => {
    const dev = vars.defaultNamePrefix('dev');
    const prod = vars.defaultNamePrefix('prod');
    expect(iamMatches(sm('endpoint-config', `${dev}--*-serve`), sm('endpoint-config', `${prod}--run-1-serve`))).toBe(
      false,
    );
    expect(iamMatches(sm('endpoint', `${dev}--*-endpoint`), sm('endpoint', `${prod}--run-1-endpoint`))).toBe(false);
  });

  // Prefixes never contain "--" and names join prefix and run id with it, so nested stage names cannot match.
  test("two stages never match each other's SageMaker names", () => {
    const dev = vars.defaultNamePrefix('dev');
    const devX = vars.defaultNamePrefix('dev-x');
    expect(iamMatches(sm('endpoint-config', `${dev}--*-serve`), sm('endpoint-config', `${devX}--run-1-serve`))).toBe(
      false,
    );
    expect(iamMatches(sm('endpoint', `${dev}--*-endpoint`), sm('endpoint', `${devX}--run-1-endpoint`))).toBe(false);
    expect(iamMatches(sm('training-job', `${dev}--*`), sm('training-job', `${devX}--run-1`))).toBe(false);
    expect(iamMatches(sm('endpoint-config', `${dev}--*-serve`), sm('endpoint-config', `${dev}--run-1-serve`))).toBe(
      true,
    );
  });
});
