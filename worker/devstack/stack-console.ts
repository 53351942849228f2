/**
 * The console part of the stack: the people's console (passkeys, approvals inbox, sessions) when
 * the keyset has its registrar key, and with the full server Temporal's Web UI behind it
 * (stack-temporal-ui.ts). What it starts is pushed to the stack's stoppers as it starts, so a
 * failure half-way stops it with the rest.
 */
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { StackFile } from '../../client/config';
import { startConsole } from '../../console/server';
import type { PolicyDocument } from '../../policies';
import type { Keyset } from '../../policies/trust';
import { consoleRegistrarKey } from './stack-keys';
import { startStackTemporalUi, temporalUiWhere } from './stack-temporal-ui';

export interface StackConsoleDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  readonly temporal: StackFile['temporal'];
  readonly keys: NonNullable<StackFile['keys']>;
  readonly keyset: Keyset;
  readonly pool: pg.Pool;
  readonly client: Client;
  readonly log: (line: string) => void;
  readonly stoppers: { name: string; stop: () => Promise<void> }[];
  readonly parts: { name: string; where: string }[];
  /**
   * The worker's default policy and its file, which the console's policy page shows.
   * @default none: the page shows it as the newest session under the default policy's name recorded it
   */
  readonly defaultPolicy?: { readonly document: PolicyDocument; readonly file: string };
}

/** The console's port when it is free (beside the gateway's 4780). */
export const DEFAULT_CONSOLE_PORT = 4781;

/** Starts the console (and the Temporal UI it serves); returns its URL, or undefined when it is off. */
export async function startStackConsole(d: StackConsoleDeps): Promise<string | undefined> {
  const { env } = d;
  const registrar = consoleRegistrarKey(env, d.keys);
  // With the full server, Temporal's Web UI behind mutual TLS, served by the console to operators.
  const temporalUi = await startStackTemporalUi({ env, dataDir: d.dataDir, temporal: d.temporal, console: registrar !== undefined, secureCookies: (env.GATEHOUSE_CONSOLE_ORIGIN ?? '').startsWith('https:'), log: d.log });
  if (temporalUi.ui) d.stoppers.push({ name: 'temporal web ui', stop: () => temporalUi.ui!.stop() });
  if (temporalUi.off) d.parts.push({ name: 'temporal web ui', where: temporalUi.off });
  if (!registrar) {
    d.parts.push({ name: 'console', where: 'off: set `GATEHOUSE_CONSOLE_REGISTRAR_KEY` to a key of role `registrar` the keyset lists' });
    return undefined;
  }
  // A passkey signs for the origin it enrolled at: the console keeps one port across restarts when it can.
  const port = env.GATEHOUSE_CONSOLE_PORT ? { port: Number(env.GATEHOUSE_CONSOLE_PORT) } : { preferredPort: DEFAULT_CONSOLE_PORT };
  // The policy page shows the worker's default policy: never one an agent's session chose.
  const policy = d.defaultPolicy ? { policy: d.defaultPolicy.document, policyOrigin: d.defaultPolicy.file } : {};
  const started = await startConsole({ pool: d.pool, client: d.client, keyset: d.keyset, registrar, ...port, ...policy, ...(env.GATEHOUSE_CONSOLE_ORIGIN ? { origin: env.GATEHOUSE_CONSOLE_ORIGIN } : {}), ...(temporalUi.ui ? { temporalUi: temporalUi.ui.upstream } : {}) });
  d.stoppers.push({ name: 'console', stop: () => started.close() });
  d.parts.push({ name: 'console', where: started.fellBack ? `${started.url} (port ${DEFAULT_CONSOLE_PORT} was taken: passkeys enrolled at http://localhost:${DEFAULT_CONSOLE_PORT} do not sign here; GATEHOUSE_CONSOLE_PORT picks one)` : started.url });
  if (temporalUi.ui) d.parts.push({ name: 'temporal web ui', where: temporalUiWhere(started.url) });
  return started.url;
}
