/**
 * The development keys `gatehouse start` makes on embedded defaults, once, under `.data/keys/`:
 * an operator key `dev-operator` (it issues credentials for trusted local code such as the demo,
 * and signs those `gatehouse agents create` prints for agents), an approvals-service key
 * `dev-slack-approvals`, the console's registrar key `dev-console`, an approver
 * key for every member of every approver group of the policies the stack loads, and the keyset
 * file `keyset.json` (marked `development: true`, which a production deployment refuses).
 * A later start reuses them and only adds keys for approvers it has not seen. Node-only.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyEntry, Keyset } from '../../policies/trust';
import { generateSigningKey, keyEntryOf, keyFileName, readKeyFile, writeKeyFile, type SigningKey } from '../../client/trust/key-files';
import { loadKeysetFile } from '../../client/trust/keyset-file';

export const DEV_OPERATOR = 'dev-operator';
export const DEV_APPROVALS_SERVICE = 'dev-slack-approvals';
/** The console's registrar: it grants the passkeys people enrol there. */
export const DEV_CONSOLE_REGISTRAR = 'dev-console';

export interface DevelopmentKeys {
  readonly keyDir: string;
  readonly keysetFile: string;
  readonly operatorKeyFile: string;
  readonly keyset: Keyset;
  /** Principals whose keys this call made (empty when everything was there already). */
  readonly created: readonly string[];
}

/** Thrown when the development key folder holds a keyset that is not a development one. */
export class DevelopmentKeysError extends Error {
  readonly type = 'DevelopmentKeysError';
  constructor(message: string) {
    super(message);
    this.name = 'DevelopmentKeysError';
  }
}

/** Makes (or reuses) the development keys in `keyDir` for these approvers. */
export function ensureDevelopmentKeys(keyDir: string, approvers: readonly string[]): DevelopmentKeys {
  mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const keysetFile = join(keyDir, 'keyset.json');
  const existing = existsSync(keysetFile) ? loadKeysetFile(keysetFile) : undefined;
  if (existing && !existing.development) {
    throw new DevelopmentKeysError(`\`${keysetFile}\` is not a development keyset: set \`GATEHOUSE_KEYS\` to it instead, or move it away`);
  }
  const keys: KeyEntry[] = [...(existing?.keys ?? [])];
  const created: string[] = [];
  const want: { principal: string; role: SigningKey['role'] }[] = [
    { principal: DEV_OPERATOR, role: 'operator' },
    { principal: DEV_APPROVALS_SERVICE, role: 'approvals-service' },
    { principal: DEV_CONSOLE_REGISTRAR, role: 'registrar' },
    ...approvers.map((principal) => ({ principal, role: 'approver' as const })),
  ];
  for (const { principal, role } of want) {
    if (keys.some((k) => k.principal === principal && k.role === role && !k.revoked)) continue;
    const path = join(keyDir, keyFileName(principal, role));
    // A key file without its keyset entry (a start interrupted mid-way) is registered as it is.
    const key = existsSync(path) ? readKeyFile(path) : generateSigningKey(principal, role);
    if (!existsSync(path)) writeKeyFile(keyDir, key);
    keys.push(keyEntryOf(key));
    created.push(principal);
  }
  const keyset: Keyset = { development: true, keys, slackUsers: existing?.slackUsers ?? [] };
  if (created.length > 0 || !existing) writeFileSync(keysetFile, `${JSON.stringify(keyset, null, 2)}\n`, { mode: 0o644 });
  return { keyDir, keysetFile, operatorKeyFile: join(keyDir, keyFileName(DEV_OPERATOR, 'operator')), keyset: loadKeysetFile(keysetFile), created };
}
