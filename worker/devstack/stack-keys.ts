/**
 * The keys `gatehouse start` trusts: `GATEHOUSE_KEYS`, or development keys made once under
 * `.data/keys/` (refused with `GATEHOUSE_ENV=production`), and the approvals service's own key.
 */
import { deploymentEnv, type StackFile } from '../../client/config';
import type { Keyset } from '../../policies/trust';
import { loadKeysetFile } from '../../client/trust/keyset-file';
import { findKeyFile, readKeyFile, type SigningKey } from '../../client/trust/key-files';
import { DEV_APPROVALS_SERVICE, DEV_CONSOLE_REGISTRAR, ensureDevelopmentKeys } from './dev-keys';

/** The approvals service's key: `GATEHOUSE_SLACK_SIGNING_KEY`, else the development one. */
export function approvalsServiceKey(env: NodeJS.ProcessEnv, keys: NonNullable<StackFile['keys']>): SigningKey {
  if (env.GATEHOUSE_SLACK_SIGNING_KEY) return readKeyFile(env.GATEHOUSE_SLACK_SIGNING_KEY);
  if (!keys.keyDir) throw new StackKeysError('the slack approvals app needs its signing key: set `GATEHOUSE_SLACK_SIGNING_KEY` to a key file of role `approvals-service`');
  return findKeyFile(DEV_APPROVALS_SERVICE, 'approvals-service', [keys.keyDir]);
}

/** The console's registrar key: `GATEHOUSE_CONSOLE_REGISTRAR_KEY`, else the development one, else none. */
export function consoleRegistrarKey(env: NodeJS.ProcessEnv, keys: NonNullable<StackFile['keys']>): SigningKey | undefined {
  if (env.GATEHOUSE_CONSOLE_REGISTRAR_KEY) return readKeyFile(env.GATEHOUSE_CONSOLE_REGISTRAR_KEY);
  if (!keys.keyDir) return undefined;
  return findKeyFile(DEV_CONSOLE_REGISTRAR, 'registrar', [keys.keyDir]);
}

/** Thrown when a production stack (`GATEHOUSE_ENV=production`) has no keyset of its own. */
export class StackKeysError extends Error {
  readonly type = 'StackKeysError';
  constructor(message: string) {
    super(message);
    this.name = 'StackKeysError';
  }
}

/**
 * The keyset the stack trusts: `GATEHOUSE_KEYS` when set (a development keyset is refused with
 * `GATEHOUSE_ENV=production`), otherwise the development keys under `keyDir`, made once. A
 * `GATEHOUSE_ENV` other than `development` or `production` throws a `ConfigError`.
 */
export function stackKeys(env: NodeJS.ProcessEnv, keyDir: string, approvers: readonly string[], log: (line: string) => void): { keyset: Keyset; keys: NonNullable<StackFile['keys']> } {
  const production = deploymentEnv(env.GATEHOUSE_ENV) === 'production';
  if (env.GATEHOUSE_KEYS) {
    const keyset = loadKeysetFile(env.GATEHOUSE_KEYS, { production });
    log(`gatehouse: keyset ${env.GATEHOUSE_KEYS} (GATEHOUSE_KEYS): ${keyset.keys.length} keys`);
    return { keyset, keys: { keysetFile: env.GATEHOUSE_KEYS } };
  }
  if (production) throw new StackKeysError('`GATEHOUSE_ENV=production` needs a keyset of real keys: set `GATEHOUSE_KEYS` (development keys are refused in production)');
  const dev = ensureDevelopmentKeys(keyDir, approvers);
  if (dev.created.length > 0) {
    log(`gatehouse: development keys made in ${keyDir} for ${dev.created.join(', ')} (keyset ${dev.keysetFile}; a production deployment refuses them)`);
  } else {
    log(`gatehouse: using the development keys in ${keyDir}`);
  }
  return { keyset: dev.keyset, keys: { keysetFile: dev.keysetFile, developmentOperatorKey: dev.operatorKeyFile, keyDir } };
}
