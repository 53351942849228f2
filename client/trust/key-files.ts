/**
 * Ed25519 key pairs on disk. A private key file is JSON `{ keyId, principal, role, publicKey,
 * secretKey }` written with mode 0600; it lives in the user's config folder
 * (`$XDG_CONFIG_HOME/gatehouse/keys`, default `~/.config/gatehouse/keys`), never in the repository,
 * and in `.data/keys` only for the development keys `gatehouse start` makes. Node-only.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64 } from '@scure/base';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { keyIdOf, type KeyEntry, type KeyRole } from '../../policies/trust';

/** A key pair with its owner. `secretKey` is the raw 32-byte Ed25519 seed, base64. */
export interface SigningKey {
  readonly keyId: string;
  readonly principal: string;
  readonly role: KeyRole;
  readonly publicKey: string;
  readonly secretKey: string;
}

/** Thrown when a key file is missing, unreadable, too open or malformed. */
export class KeyFileError extends Error {
  readonly type = 'KeyFileError';
  constructor(message: string, readonly path: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

const keyFileSchema = z
  .object({
    keyId: z.string(),
    principal: z.string().min(1),
    role: z.enum(['approver', 'operator', 'approvals-service', 'registrar']),
    publicKey: z.string(),
    secretKey: z.string(),
  })
  .strict();

/** Makes a new key pair (the only place Gatehouse needs randomness for keys). */
export function generateSigningKey(principal: string, role: KeyRole): SigningKey {
  const secret = ed25519.utils.randomSecretKey();
  const pub = ed25519.getPublicKey(secret);
  return { keyId: keyIdOf(pub), principal, role, publicKey: base64.encode(pub), secretKey: base64.encode(secret) };
}

/** The keyset entry of a key pair: what an operator registers. */
export function keyEntryOf(key: SigningKey, notAfter?: string): KeyEntry {
  return { keyId: key.keyId, principal: key.principal, role: key.role, publicKey: key.publicKey, revoked: false, ...(notAfter ? { notAfter } : {}) };
}

/** The raw secret key bytes. */
export function secretKeyBytes(key: SigningKey): Uint8Array {
  return base64.decode(key.secretKey);
}

/** The folder of a user's own private keys. */
export function userKeyDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'gatehouse', 'keys');
}

/** File name of a principal's key of a role: `<principal>.<role>.key`. */
export function keyFileName(principal: string, role: KeyRole): string {
  if (!/^[\w.@-]{1,100}$/.test(principal)) throw new KeyFileError(`invalid principal \`${principal}\`: use letters, digits and \`._@-\``, principal);
  return `${principal}.${role}.key`;
}

/** Writes a private key file with mode 0600 (refuses to overwrite one). */
export function writeKeyFile(dir: string, key: SigningKey): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, keyFileName(key.principal, key.role));
  if (existsSync(path)) throw new KeyFileError(`key file \`${path}\` exists: remove it first to replace the key`, path);
  writeFileSync(path, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return path;
}

/**
 * Throws unless the file at `path` is closed to group and others (mode 0600 or stricter): a file of
 * secrets (`what`, e.g. `key file`) anyone else on the machine may read is refused, not used.
 */
export function refuseOpenSecretFile(path: string, what: string, error: (message: string) => Error): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) throw error(`${what} \`${path}\` is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
}

/** Reads and checks a private key file: mode 0600 or stricter, the public key matching the secret. */
export function readKeyFile(path: string): SigningKey {
  let text: string;
  try {
    refuseOpenSecretFile(path, 'key file', (message) => new KeyFileError(message, path));
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof KeyFileError) throw err;
    throw new KeyFileError(`cannot read key file \`${path}\`: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, path);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new KeyFileError(`key file \`${path}\` is not JSON`, path);
  }
  const parsed = keyFileSchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new KeyFileError(`key file \`${path}\` is malformed${first ? `: ${first.path.join('.') || '(root)'}: ${first.message}` : ''}`, path);
  }
  const key = parsed.data;
  let pub: Uint8Array;
  try {
    pub = ed25519.getPublicKey(base64.decode(key.secretKey));
  } catch {
    throw new KeyFileError(`key file \`${path}\` holds no valid Ed25519 secret key`, path);
  }
  if (base64.encode(pub) !== key.publicKey || keyIdOf(pub) !== key.keyId) throw new KeyFileError(`key file \`${path}\`: the public key or key id does not match the secret key`, path);
  return key;
}

/**
 * Finds a principal's key of a role: in each folder given, in order (the user's key folder first,
 * then `.data/keys` of a development stack). Throws a `KeyFileError` naming every place looked at.
 */
export function findKeyFile(principal: string, role: KeyRole, dirs: readonly string[]): SigningKey {
  const name = keyFileName(principal, role);
  for (const dir of dirs) {
    const path = join(dir, name);
    if (existsSync(path)) return readKeyFile(path);
  }
  const hint = role === 'approver' ? `gatehouse keys create --approver ${principal}` : role === 'operator' ? `gatehouse keys create --operator ${principal}` : 'gatehouse keys create --service <name>';
  throw new KeyFileError(`no ${role} key for \`${principal}\`: looked for \`${name}\` in ${dirs.map((d) => `\`${d}\``).join(', ')}; make one with \`${hint}\` and register its public key in the keyset`, join(dirs[0] ?? '.', name));
}
