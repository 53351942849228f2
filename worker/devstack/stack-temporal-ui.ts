/**
 * The Web UI part of `gatehouse start --temporal server`: Temporal's UI server (temporal-ui.ts)
 * against the embedded full server, over mutual TLS with a client certificate of its own, served
 * by the console under `/temporal/` to signed-in operators. Without the console (no registrar key)
 * nothing could reach it, so it does not start; without a binary the banner says how to build one
 * and the stack runs on (the UI is a convenience, not a control).
 */
import { dirname, join } from 'node:path';
import type { StackFile } from '../../client/config';
import { TEMPORAL_UI_PATH } from '../../console/temporal-ui-proxy';
import { findTemporalUi, TemporalUiNotFoundError } from './temporal-ui-binary';
import { startTemporalUi, type RunningTemporalUi } from './temporal-ui';
import { ensureTemporalUiTls } from './temporal-ui-tls';
import { temporalTlsFiles } from './temporal-tls';

export interface StackTemporalUi {
  readonly ui?: RunningTemporalUi;
  /** The banner line when the UI does not run (why, and what to do). */
  readonly off?: string;
}

/** Starts the UI server when the stack runs the full server and a console; otherwise says why not. */
export async function startStackTemporalUi(o: { env: NodeJS.ProcessEnv; dataDir: string; temporal: StackFile['temporal']; console: boolean; secureCookies: boolean; log: (line: string) => void }): Promise<StackTemporalUi> {
  const tls = o.temporal.tls;
  if (!o.temporal.embedded || !tls) return {};
  if (!o.console) return { off: 'off: the console serves it to operators, and the console is off' };
  let binary: string;
  try {
    binary = await findTemporalUi({ env: o.env, log: o.log });
  } catch (err) {
    if (!(err instanceof TemporalUiNotFoundError)) throw err;
    o.log(`gatehouse: ${err.message}`);
    return { off: 'not built: run `.ci/run` once (it builds the ui server with go), or set TEMPORAL_UI_DIR' };
  }
  const tlsDir = dirname(tls.caFile);
  const uiTls = await ensureTemporalUiTls(tlsDir, temporalTlsFiles(tlsDir));
  if (uiTls.created.length > 0) o.log(`gatehouse: temporal ui certificates made in ${join(tlsDir, 'ui')}: ${uiTls.created.join(', ')}`);
  o.log('gatehouse: starting the temporal web ui (mutual tls, read only)');
  const ui = await startTemporalUi({
    binary,
    frontend: o.temporal.address,
    namespace: o.temporal.namespace,
    frontendTls: { caFile: tls.caFile, serverName: tls.serverName },
    tls: uiTls,
    stateDir: join(o.dataDir, 'temporal-ui'),
    secureCookies: o.secureCookies,
  });
  return { ui };
}

/** The banner line of a running UI: where operators open it. */
export function temporalUiWhere(consoleUrl: string): string {
  return `${new URL(`${TEMPORAL_UI_PATH}/`, consoleUrl).toString()} (operators signed in to the console; read only; the ui server itself accepts only the console's client certificate)`;
}
