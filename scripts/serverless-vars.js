'use strict';

/**
 * Variables for serverless.yml that YAML cannot express: a SageMaker-safe name prefix derived from the stage, and
 * package-time validation of the optional VPC and KMS params. Resolved offline (no AWS calls), through
 * `${file(./scripts/serverless-vars.js):…}`.
 *
 * The rules mirror src/domain/naming.ts (NAME_PREFIX_MAX, SAGEMAKER_NAME_PATTERN); test/deploy keeps them in sync.
 * Lower-case only, because SageMaker ARNs (which the IAM policies match) carry lower-cased names.
 */
const { createHash } = require('node:crypto');

const NAME_PREFIX_MAX = 16;
const NAME_PREFIX_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const SHORT_NAME = 'knnp';

function slug(text) {
  return String(text)
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `knnp-<stage>`; a stage too long for 16 characters is cut and suffixed with a hash of the whole stage. */
function defaultNamePrefix(stage) {
  const stageSlug = slug(stage) || 'stage';
  const full = `${SHORT_NAME}-${stageSlug}`;
  if (full.length <= NAME_PREFIX_MAX && stageSlug === stage) return full;
  const hash = createHash('sha256').update(String(stage)).digest('hex').slice(0, 4);
  const room = NAME_PREFIX_MAX - SHORT_NAME.length - hash.length - 2;
  const head = stageSlug.slice(0, room).replace(/-+$/g, '');
  return head ? `${SHORT_NAME}-${head}-${hash}` : `${SHORT_NAME}-${hash}`;
}

function assertNamePrefix(prefix) {
  if (typeof prefix !== 'string' || prefix.length > NAME_PREFIX_MAX || !NAME_PREFIX_PATTERN.test(prefix)) {
    throw new Error(
      `param "namePrefix" = ${JSON.stringify(prefix)} must be 1-${NAME_PREFIX_MAX} lower-case letters, digits or single ` +
        'hyphens: it starts every SageMaker resource name (<prefix>--<runId>-endpoint must fit 63 characters)',
    );
  }
  return prefix;
}

const SUBNET_LIST = /^subnet-[0-9a-f]+(,subnet-[0-9a-f]+)*$/;
const SECURITY_GROUP_LIST = /^sg-[0-9a-f]+(,sg-[0-9a-f]+)*$/;
/** A KMS key ARN (not a key id or alias): IAM policies can only name a key by its key ARN. */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-zA-Z0-9-]+$/;

/**
 * The optional VPC params, validated together: both empty, or both comma lists (no spaces) of subnet-… and sg-…
 * ids. src/config/stage.ts refuses one without the other at run time; this refuses it at package time.
 */
function assertVpcParams(subnets, securityGroups) {
  const subnetText = String(subnets ?? '');
  const groupText = String(securityGroups ?? '');
  if ((subnetText === '') !== (groupText === '')) {
    throw new Error('params "vpcSubnetIds" and "vpcSecurityGroupIds" must be set together (or both left empty)');
  }
  if (subnetText !== '' && !SUBNET_LIST.test(subnetText)) {
    throw new Error(
      `param "vpcSubnetIds" = ${JSON.stringify(subnetText)} must be a comma list of subnet-… ids without spaces`,
    );
  }
  if (groupText !== '' && !SECURITY_GROUP_LIST.test(groupText)) {
    throw new Error(
      `param "vpcSecurityGroupIds" = ${JSON.stringify(groupText)} must be a comma list of sg-… ids without spaces`,
    );
  }
  return { subnets: subnetText, securityGroups: groupText };
}

function assertKmsKeyArn(name, value) {
  const text = String(value ?? '');
  if (text !== '' && !KMS_KEY_ARN.test(text)) {
    throw new Error(
      `param "${name}" = ${JSON.stringify(text)} must be empty or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>): ` +
        'the IAM statements that let SageMaker use the key can only name it by its ARN',
    );
  }
  return text;
}

async function vpcParams(resolveVariable) {
  return assertVpcParams(
    await resolveVariable('param:vpcSubnetIds'),
    await resolveVariable('param:vpcSecurityGroupIds'),
  );
}

const kmsKeyParam =
  (name) =>
  async ({ resolveVariable }) =>
    assertKmsKeyArn(name, await resolveVariable(`param:${name}`));

async function stageOf(resolveVariable) {
  return String(await resolveVariable('sls:stage'));
}

module.exports = {
  NAME_PREFIX_MAX,
  NAME_PREFIX_PATTERN,
  defaultNamePrefix,
  assertNamePrefix,
  /** Default for `params.default.namePrefix`. */
  defaultNamePrefixForStage: async ({ resolveVariable }) => defaultNamePrefix(await stageOf(resolveVariable)),
  /** The prefix in use (`${param:namePrefix}`), validated so a bad per-stage override fails at package time. */
  namePrefix: async ({ resolveVariable }) => assertNamePrefix(String(await resolveVariable('param:namePrefix'))),
  SUBNET_LIST,
  SECURITY_GROUP_LIST,
  KMS_KEY_ARN,
  assertVpcParams,
  assertKmsKeyArn,
  /** `${param:vpcSubnetIds}` / `${param:vpcSecurityGroupIds}`, validated together. */
  vpcSubnetIds: async ({ resolveVariable }) => (await vpcParams(resolveVariable)).subnets,
  vpcSecurityGroupIds: async ({ resolveVariable }) => (await vpcParams(resolveVariable)).securityGroups,
  /** The KMS key params, each empty or a key ARN. */
  trainingVolumeKmsKeyId: kmsKeyParam('trainingVolumeKmsKeyId'),
  trainingOutputKmsKeyId: kmsKeyParam('trainingOutputKmsKeyId'),
  endpointKmsKeyId: kmsKeyParam('endpointKmsKeyId'),
};
