/**
 * The certificates of the production shape's mutual TLS (`gatehouse start --temporal server`,
 * test/production, and `deploy/make-temporal-certs.ts` for docker-compose): a CA made per data dir,
 * a server certificate for the frontend and internode traffic (127.0.0.1, localhost and any host
 * given), one for the Temporal server's own system worker, and one client certificate per Gatehouse
 * process role. Made once, reused on every start; private keys mode 0600 in a 0700 folder.
 *
 * Keys are made by Node's crypto (ECDSA P-256, PKCS #8) and written by us; the certificates are
 * signed by the machine's `openssl` (no X.509 writer ships with Node, and no ASN.1 by hand).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEMPORAL_CLIENT_ROLES, type TemporalClientRole, type TemporalTlsFiles } from '../../client/config';

const exec = promisify(execFile);

/** The name clients check the server certificate against (it is in the certificate's SANs). */
export const TEMPORAL_TLS_SERVER_NAME = 'temporal.gatehouse.internal';

/** Validity of the leaf certificates and the CA, in days. */
const LEAF_DAYS = 825;
const CA_DAYS = 3650;

export interface TemporalTlsOptions {
  /** More DNS names for the server certificate (e.g. `temporal` in docker-compose). */
  readonly hosts?: readonly string[];
}

/** Thrown when the certificates cannot be made (no `openssl`, an unwritable folder). */
export class TemporalTlsError extends Error {
  readonly type = 'TemporalTlsError';
  constructor(message: string) {
    super(message);
    this.name = 'TemporalTlsError';
  }
}

/** Every file of the set, for the server and the clients. */
export interface TemporalTlsSet extends TemporalTlsFiles {
  readonly caKeyFile: string;
  readonly server: { readonly certFile: string; readonly keyFile: string };
  readonly systemWorker: { readonly certFile: string; readonly keyFile: string };
}

/** The file names of `dir`'s set (whether or not they exist yet). */
export function temporalTlsFiles(dir: string): TemporalTlsSet {
  const pair = (name: string) => ({ certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) });
  return {
    caFile: join(dir, 'ca.pem'),
    caKeyFile: join(dir, 'ca.key'),
    serverName: TEMPORAL_TLS_SERVER_NAME,
    server: pair('server'),
    systemWorker: pair('temporal-system-worker'),
    clients: Object.fromEntries(TEMPORAL_CLIENT_ROLES.map((role) => [role, pair(`client-${role}`)])) as Record<TemporalClientRole, { certFile: string; keyFile: string }>,
  };
}

/** Makes whatever of the set is missing in `dir` (the CA first; a new CA re-issues every certificate). */
export async function ensureTemporalTls(dir: string, o: TemporalTlsOptions = {}): Promise<TemporalTlsSet & { readonly created: readonly string[] }> {
  const set = temporalTlsFiles(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const created: string[] = [];
  const freshCa = !existsSync(set.caFile) || !existsSync(set.caKeyFile);
  if (freshCa) {
    await writeKey(set.caKeyFile);
    await openssl(['req', '-x509', '-new', '-key', set.caKeyFile, '-out', set.caFile, '-days', String(CA_DAYS), '-subj', `/O=Gatehouse/CN=Gatehouse Temporal CA ${randomBytes(4).toString('hex')}`, '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    created.push('ca');
  }
  const hosts = ['localhost', TEMPORAL_TLS_SERVER_NAME, ...(o.hosts ?? [])];
  const leaves: { name: string; pair: { certFile: string; keyFile: string }; ext: string }[] = [
    { name: 'temporal-server', pair: set.server, ext: `subjectAltName=${[...hosts.map((h) => `DNS:${h}`), 'IP:127.0.0.1'].join(',')}\nextendedKeyUsage=serverAuth,clientAuth` },
    { name: 'temporal-system-worker', pair: set.systemWorker, ext: 'extendedKeyUsage=clientAuth' },
    ...TEMPORAL_CLIENT_ROLES.map((role) => ({ name: `gatehouse-${role}`, pair: set.clients[role], ext: 'extendedKeyUsage=clientAuth' })),
  ];
  for (const leaf of leaves) {
    if (!freshCa && existsSync(leaf.pair.certFile) && existsSync(leaf.pair.keyFile)) continue;
    await issue(set, leaf.name, leaf.pair, leaf.ext);
    created.push(leaf.name);
  }
  return { ...set, created };
}

/** The subject common name of a certificate file (what the server sees as the caller). */
export async function certificateName(certFile: string): Promise<string> {
  const subject = new X509Certificate(await readFile(certFile)).subject;
  return /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1] ?? '';
}

/** Issues (or re-issues) a leaf `pair` named `name` by the CA of `set`, with the extensions `ext`. */
export async function issue(set: { readonly caFile: string; readonly caKeyFile: string }, name: string, pair: { certFile: string; keyFile: string }, ext: string): Promise<void> {
  await writeKey(pair.keyFile);
  const csr = `${pair.certFile}.csr`;
  const extFile = `${pair.certFile}.ext`;
  await writeFile(extFile, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n${ext}\n`);
  try {
    await openssl(['req', '-new', '-key', pair.keyFile, '-out', csr, '-subj', `/O=Gatehouse/CN=${name}`]);
    await openssl(['x509', '-req', '-in', csr, '-CA', set.caFile, '-CAkey', set.caKeyFile, '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', String(LEAF_DAYS), '-sha256', '-extfile', extFile, '-out', pair.certFile]);
  } finally {
    await rm(csr, { force: true });
    await rm(extFile, { force: true });
  }
}

/** A fresh P-256 key, written by us with mode 0600 (never by openssl under the umask). */
export async function writeKey(file: string): Promise<void> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await rm(file, { force: true });
  await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await chmod(file, 0o600);
}

export async function openssl(args: string[]): Promise<void> {
  try {
    await exec('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new TemporalTlsError('`openssl` is needed to make the temporal certificates: install it (e.g. `apt-get install openssl`)');
    throw new TemporalTlsError(`openssl \`${args[0]}\` failed: ${(e.stderr ?? e.message).trim()}`);
  }
}
