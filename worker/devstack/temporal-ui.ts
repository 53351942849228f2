/**
 * Runs Temporal's Web UI server against a Temporal frontend, never open: its listener requires a
 * client certificate of its own CA (`temporal-ui-tls.ts`), which issued one only, the console's,
 * and the console serves it under `/temporal/` to a signed-in operator (console/temporal-ui-proxy.ts).
 *
 * Read only (`disableWriteActions` and every per-action switch): the UI server itself answers 405
 * to every write of its API (a query is a read). Terminate, reset, signal or start from the UI
 * would bypass Gatehouse's own controls — halt, pause and resume are audited, resume is signed —
 * and a reset re-runs a session's history from an earlier point, re-executing approved calls.
 *
 * The configuration is written to `<stateDir>/config/gatehouse.yaml`; start-up waits until
 * `/healthz` answers over mutual TLS and fails with the process's output when it dies first.
 */
import { request } from 'node:https';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, LOCALHOST } from './ports';
import { spawnGroup } from './process-group';
import { TemporalServerStartError } from './temporal-server';
import type { TemporalUiTls } from './temporal-ui-tls';
import { TEMPORAL_UI_PATH } from '../../console/temporal-ui-proxy';


export interface TemporalUiOptions {
  readonly binary: string;
  readonly frontend: string;
  readonly namespace: string;
  /** The frontend's CA and name, when it requires mutual TLS (the full server); absent: plain TCP (the dev server). */
  readonly frontendTls?: { readonly caFile: string; readonly serverName: string };
  readonly tls: TemporalUiTls;
  readonly stateDir: string;
  /** Whether the console is served over https (the UI's `_csrf` cookie is `Secure` then). */
  readonly secureCookies: boolean;
  /** @default a free port */
  readonly port?: number;
  /** @default 60_000 */
  readonly startTimeoutMs?: number;
}

/** What the console's proxy needs to reach the listener. */
export interface TemporalUiUpstream {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface RunningTemporalUi {
  readonly upstream: TemporalUiUpstream;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Renders the UI server's configuration (YAML; JSON strings are valid YAML scalars). */
export function renderTemporalUiConfig(o: TemporalUiOptions & { port: number }): string {
  const q = (v: string) => JSON.stringify(v);
  const frontendTls = o.frontendTls
    ? `tls:\n  caFile: ${q(o.frontendTls.caFile)}\n  certFile: ${q(o.tls.frontendClient.certFile)}\n  keyFile: ${q(o.tls.frontendClient.keyFile)}\n  serverName: ${q(o.frontendTls.serverName)}\n  enableHostVerification: true\n`
    : '';
  const off = ['disableWriteActions', 'workflowTerminateDisabled', 'workflowCancelDisabled', 'workflowSignalDisabled', 'workflowUpdateDisabled', 'workflowResetDisabled', 'workflowPauseDisabled', 'batchActionsDisabled', 'startWorkflowDisabled', 'activityCommandsDisabled'];
  return `# Written by Gatehouse (worker/devstack/temporal-ui.ts).
temporalGrpcAddress: ${q(o.frontend)}
host: ${q(LOCALHOST)}
port: ${o.port}
publicPath: ${q(TEMPORAL_UI_PATH)}
enableUi: true
defaultNamespace: ${q(o.namespace)}
hideLogs: true
disableNewsFetch: true
notifyOnNewVersion: false
${off.map((k) => `${k}: true`).join('\n')}
auth:
  enabled: false
cors:
  cookieInsecure: ${!o.secureCookies}
  unsafeAllowAllOrigins: false
  allowOrigins: []
forwardHeaders: []
${frontendTls}uiServerTLS:
  certFile: ${q(o.tls.server.certFile)}
  keyFile: ${q(o.tls.server.keyFile)}
  mTLS:
    caFile: ${q(o.tls.caFile)}
    clientAuth: requireAndVerify
`;
}

/** Writes the configuration, starts the UI server and waits until it answers the console's certificate. */
export async function startTemporalUi(o: TemporalUiOptions): Promise<RunningTemporalUi> {
  const port = o.port ?? (await freePort());
  const configDir = join(o.stateDir, 'config');
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, 'gatehouse.yaml'), renderTemporalUiConfig({ ...o, port }), { mode: 0o600 });
  const upstream: TemporalUiUpstream = { origin: `https://${LOCALHOST}:${port}`, caFile: o.tls.caFile, certFile: o.tls.console.certFile, keyFile: o.tls.console.keyFile };
  const proc = spawnGroup(o.binary, ['--root', o.stateDir, '--config', 'config', '--env', 'gatehouse', 'start'], { env: { PATH: process.env.PATH ?? '' } });
  const deadline = Date.now() + (o.startTimeoutMs ?? 60_000);
  const tls = { ca: await readFile(upstream.caFile), cert: await readFile(upstream.certFile), key: await readFile(upstream.keyFile) };
  let last = 'no answer yet';
  while (true) {
    if (proc.hasExited()) throw new TemporalServerStartError('temporal ui server exited during start-up', proc.outputTail());
    const status = await healthz(port, tls).catch((err: Error) => ((last = err.message), 0));
    if (status === 200) break;
    if (Date.now() > deadline) {
      await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
      throw new TemporalServerStartError(`temporal ui server on port ${port} was not ready: last error: ${last}`, proc.outputTail());
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { upstream, pid: proc.pid, stop: () => proc.stop({ signal: 'SIGTERM', graceMs: 5_000 }) };
}

function healthz(port: number, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: LOCALHOST, port, path: '/healthz', method: 'GET', ...tls, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
