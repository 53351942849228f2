/**
 * The certificates of Temporal's Web UI server (`temporal-ui.ts`), under `<temporal-tls>/ui/`:
 * - `frontend-client`: the UI server's own client certificate to the Temporal frontend, issued by
 *   the per-data-dir CA like every other Temporal client's;
 * - a CA of the UI listener's own (`ui-ca`), which issues exactly two certificates: the listener's
 *   server certificate (127.0.0.1, localhost) and `console`, the client certificate the console's
 *   proxy presents. The listener accepts callers of that CA only, so no other certificate of the
 *   data dir (the gateway's, the worker's) opens the UI: only the console process holds the key.
 *
 * Made once and reused; a certificate that no longer chains to its CA (a CA made again) is issued again.
 */
import { existsSync } from 'node:fs';
import { mkdir, chmod, readFile } from 'node:fs/promises';
import { X509Certificate, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { issue, openssl, writeKey, type TemporalTlsSet } from './temporal-tls';

type Pair = { readonly certFile: string; readonly keyFile: string };

export interface TemporalUiTls {
  /** The UI server's client certificate to the Temporal frontend (per-data-dir CA). */
  readonly frontendClient: Pair;
  /** The UI listener's CA: trusts the console only. */
  readonly caFile: string;
  readonly caKeyFile: string;
  /** The UI listener's server certificate. */
  readonly server: Pair;
  /** The console proxy's client certificate to the UI listener. */
  readonly console: Pair;
}

/** The file names under `<tlsDir>/ui/` (whether or not they exist yet). */
export function temporalUiTlsFiles(tlsDir: string): TemporalUiTls {
  const dir = join(tlsDir, 'ui');
  const pair = (name: string) => ({ certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) });
  return { frontendClient: pair('frontend-client'), caFile: join(dir, 'ui-ca.pem'), caKeyFile: join(dir, 'ui-ca.key'), server: pair('ui-server'), console: pair('console') };
}

/** Makes whatever is missing or stale; `main` is the per-data-dir set (`ensureTemporalTls`) of `tlsDir`. */
export async function ensureTemporalUiTls(tlsDir: string, main: Pick<TemporalTlsSet, 'caFile' | 'caKeyFile'>): Promise<TemporalUiTls & { readonly created: readonly string[] }> {
  const set = temporalUiTlsFiles(tlsDir);
  const dir = join(tlsDir, 'ui');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const created: string[] = [];
  if (!existsSync(set.caFile) || !existsSync(set.caKeyFile)) {
    await writeKey(set.caKeyFile);
    await openssl(['req', '-x509', '-new', '-key', set.caKeyFile, '-out', set.caFile, '-days', '3650', '-subj', `/O=Gatehouse/CN=Gatehouse Temporal UI CA ${randomBytes(4).toString('hex')}`, '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    created.push('ui-ca');
  }
  const uiCa = { caFile: set.caFile, caKeyFile: set.caKeyFile };
  const leaves = [
    { name: 'gatehouse-temporal-ui', ca: main, pair: set.frontendClient, ext: 'extendedKeyUsage=clientAuth' },
    { name: 'gatehouse-temporal-ui-server', ca: uiCa, pair: set.server, ext: 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth' },
    { name: 'gatehouse-console', ca: uiCa, pair: set.console, ext: 'extendedKeyUsage=clientAuth' },
  ];
  for (const leaf of leaves) {
    if (existsSync(leaf.pair.keyFile) && (await chainsTo(leaf.pair.certFile, leaf.ca.caFile))) continue;
    await issue(leaf.ca, leaf.name, leaf.pair, leaf.ext);
    created.push(leaf.name);
  }
  return { ...set, created };
}

async function chainsTo(certFile: string, caFile: string): Promise<boolean> {
  try {
    const ca = new X509Certificate(await readFile(caFile));
    return new X509Certificate(await readFile(certFile)).verify(ca.publicKey);
  } catch {
    return false;
  }
}
