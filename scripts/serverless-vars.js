'use strict';

/**
 * Variables for serverless.yml that YAML cannot express: a SageMaker-safe name prefix derived from the stage.
 * Resolved offline (no AWS calls), through `${file(./scripts/serverless-vars.js):…}`.
 *
 * The rules mirror src/domain/naming.ts (NAME_PREFIX_MAX, SAGEMAKER_NAME_PATTERN); test/deploy keeps them in sync.
 * Lower-case only, because SageMaker ARNs (which the IAM policies match) carry lower-cased names.
 */
const { createHash } = require('node:crypto');

const NAME_PREFIX_MAX = 17;
const NAME_PREFIX_PATTERN = /^[a-z0-9](-*[a-z0-9])*$/;
const SHORT_NAME = 'knnp';

function slug(text) {
  return String(text)
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `knnp-<stage>`; a stage too long for 17 characters is cut and suffixed with a hash of the whole stage. */
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
        'hyphens: it starts every SageMaker resource name (<prefix>-<runId>-endpoint must fit 63 characters)',
    );
  }
  return prefix;
}

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
};
