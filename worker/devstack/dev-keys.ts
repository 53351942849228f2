/**
 * The development keys `gatehouse start` makes on embedded defaults, once, under `.data/keys/`:
 * an operator key `dev-operator` (it issues credentials for trusted local code such as the demo,
 * and signs those `gatehouse agents create` prints for agents), an approvals-service key
 * `dev-slack-approvals`, the console's registrar key `dev-console`, an approver
 * key for every member of every approver group of the policies the stack loads, and the keyset
 * file `keyset.json` (marked `development: true`, which a production deployment refuses).
 * A later start reuses them and only adds keys for approvers it has not seen, or whose key the
 * keyset revokes (a new key replaces the revoked one's file; the revoked entry stays). The new
 * keyset is validated before anything is written, and files are replaced whole (a temporary file
 * renamed over them), so a failed or interrupted start leaves the keyset as it was. Node-only.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseKeyset, type KeyEntry, type Keyset } from '../../policies/trust';
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

/** Thrown when the development key folder holds a keyset that is not a development one, or keys that would not make a valid one. */
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
  const revoked = new Set(keys.filter((k) => k.revoked).map((k) => k.keyId));
  /** Key files to write once the keyset is known to be valid: new ones, and replacements of revoked ones. */
  const toWrite: { key: SigningKey; replaces: boolean }[] = [];
  for (const { principal, role } of want) {
    if (keys.some((k) => k.principal === principal && k.role === role && !k.revoked)) continue;
    const path = join(keyDir, keyFileName(principal, role));
    // A key file without its keyset entry (a start interrupted mid-way) is registered as it is;
    // one whose key the keyset revokes is replaced by a new key.
    const onDisk = existsSync(path) ? readKeyFile(path) : undefined;
    const key = onDisk && !revoked.has(onDisk.keyId) ? onDisk : generateSigningKey(principal, role);
    if (key !== onDisk) toWrite.push({ key, replaces: onDisk !== undefined });
    keys.push(keyEntryOf(key));
    created.push(principal);
  }
  const keyset: Keyset = { development: true, keys, slackUsers: existing?.slackUsers ?? [] };
  const checked = parseKeyset(keyset);
  if (!checked.success) {
    const first = checked.issues[0]!;
    throw new DevelopmentKeysError(`the development keys in \`${keyDir}\` do not make a valid keyset: ${first.path}: ${first.message}; nothing was written (fix or remove the key files and \`keyset.json\`)`);
  }
  for (const { key, replaces } of toWrite) {
    if (replaces) replaceKeyFile(keyDir, key);
    else writeKeyFile(keyDir, key);
  }
  if (created.length > 0 || !existing) writeWhole(keysetFile, `${JSON.stringify(keyset, null, 2)}\n`, 0o644);
  return { keyDir, keysetFile, operatorKeyFile: join(keyDir, keyFileName(DEV_OPERATOR, 'operator')), keyset: loadKeysetFile(keysetFile), created };
}

/** Puts a new key in the place of a revoked key's file, mode 0600. */
function replaceKeyFile(keyDir: string, key: SigningKey): void {
  writeWhole(join(keyDir, keyFileName(key.principal, key.role)), `${JSON.stringify(key, null, 2)}\n`, 0o600);
}

/** Writes `path` whole or not at all: a temporary file beside it, renamed over it. */
function writeWhole(path: string, text: string, mode: number): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    rmSync(temp, { force: true });
    writeFileSync(temp, text, { mode, flag: 'wx' });
    chmodSync(temp, mode);
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
