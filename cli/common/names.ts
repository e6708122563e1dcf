import { randomBytes } from 'node:crypto';
import { slug } from '../../src/domain/naming';

/**
 * A readable, unique execution name: `<label>-<yyyymmdd>-<hhmmss>-<4 hex>` (UTC). Short enough that Prepare uses it
 * as the run id unchanged, so the SageMaker resources and the S3 prefix carry the same name.
 */
export function timestampedName(label: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const head = (slug(label) || 'run').slice(0, 14).replace(/-+$/, '');
  return `${head}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** `arn:…:stateMachine:<machine>` + name → `arn:…:execution:<machine>:<name>`. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
