/**
 * `npm run bench:console`: the console's sessions list with `BENCH_SESSIONS` (1,000) sessions —
 * half running (their counts read from their events), half finished — in a fresh embedded
 * PostgreSQL. Measures the list's API answer (`GET /api/sessions`, all rows, from the page) and
 * the time to first render in headless Chromium: from navigation start until the pushed list's
 * rows are in the table (the page stamps `performance.now()` when it renders them), `RUNS` (5)
 * loads each. No Temporal is needed: the list reads only the audit database. Last line: one JSON object.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { migrate } from '../audit/migrate';
import { AuditStore } from '../audit/store';
import type { AuditEventInput } from '../audit/types';
import { startConsole } from '../console/server';
import { ConsoleStore } from '../console/store';
import type { Decision } from '../policies/types';
import { CHROMIUM } from '../test/console/browser';
import { testTrust } from '../test/support/trust';
import { startEmbeddedPostgres } from '../worker/devstack/postgres';
import { pct } from './fixtures/percentile';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const RUNS = Number(process.env.RUNS ?? 5);
const DECISION: Decision = { verdict: 'allow', tier: 'autonomous', reasons: [{ rule: 'tier.read', message: 'read tool runs autonomously' }], policyHash: 'c'.repeat(64) };

function events(sessionId: string, t0: number): AuditEventInput[] {
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  const base = { sessionId, tool: 'volumes.list', proposalSeq: 1 };
  return [
    { sessionId, seq: 1, kind: 'session-started', at: at(0) },
    { ...base, seq: 2, kind: 'proposed', at: at(1), args: {}, reasoning: 'look' },
    { ...base, seq: 3, kind: 'decided', at: at(1), decision: DECISION },
    { ...base, seq: 4, kind: 'executed', at: at(2), latencyMs: 3, resultStatus: 'executed' },
  ];
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-console-'));
  const server = await startEmbeddedPostgres({ dataDir, removeDataDirOnStop: true, noFsync: true });
  await server.createDatabase('bench_console');
  const db = new pg.Pool({ connectionString: server.urlFor('bench_console'), max: 10 });
  db.on('error', () => undefined);
  const trust = testTrust();
  // The list never asks Temporal: a lazy connection that is never used.
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  let running: Awaited<ReturnType<typeof startConsole>> | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    await migrate(db);
    const store = new AuditStore(db);
    const t0 = Date.now() - SESSIONS * 1000;
    for (let i = 0; i < SESSIONS; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, SESSIONS - i) }, async (_, j) => {
        const n = i + j;
        const id = `bench-${String(n).padStart(5, '0')}`;
        await store.startSession({ sessionId: id, workflowId: `session-${id}`, agentId: `bot-${n % 7}`, owner: `eng-${n % 13}`, intent: 'benchmark the console list', policyHash: 'c'.repeat(64), policy: { version: 1 }, startedAt: new Date(t0 + n * 1000).toISOString() });
        await store.append(events(id, t0 + n * 1000));
        if (n % 2 === 0) await store.patchSession(id, { finalState: 'completed', endedAt: new Date(t0 + n * 1000 + 3000).toISOString(), counters: { proposals: 1, executed: 1, denied: 0, failed: 0, expired: 0, tokens: 0 }, intentScore: 0.9 });
      }));
    }
    running = await startConsole({ pool: db, client, keyset: trust.keyset, registrar: trust.registrar });
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } });
    const { secret } = await new ConsoleStore(db).createInvite('olivia', 'operator', 3_600_000, 'bench');
    await page.goto(new URL(`/enrol#${secret}`, running.url).toString());
    await page.click('#enrol');
    await page.locator('#me', { hasText: 'olivia' }).waitFor();

    const api: number[] = [];
    let bytes = 0;
    for (let r = 0; r < RUNS * 4; r += 1) {
      const t = (await page.evaluate(`(async () => { const t = performance.now(); const r = await fetch('/api/sessions'); const b = await r.text(); return [performance.now() - t, b.length, JSON.parse(b).length]; })()`)) as [number, number, number];
      if (t[2] !== SESSIONS) throw new Error(`the list answered ${t[2]} sessions, not ${SESSIONS}`);
      api.push(t[0]);
      bytes = t[1];
    }
    const render: number[] = [];
    for (let r = 0; r < RUNS; r += 1) {
      await page.goto(new URL('/sessions', running.url).toString());
      await page.locator('#sessions tbody tr').nth(SESSIONS - 1).waitFor();
      const stamped = Number(await page.evaluate('document.body.dataset.rendered'));
      render.push(stamped);
    }
    api.sort((a, b) => a - b);
    render.sort((a, b) => a - b);
    const result = { sessions: SESSIONS, apiP50Ms: +pct(api, 50).toFixed(1), apiP99Ms: +pct(api, 99).toFixed(1), apiBytes: bytes, firstRenderP50Ms: +pct(render, 50).toFixed(1), firstRenderMaxMs: +render.at(-1)!.toFixed(1), runs: RUNS };
    process.stdout.write(`sessions list, ${SESSIONS} sessions (half running): API ${result.apiP50Ms} ms p50, ${result.apiP99Ms} ms p99, ${(bytes / 1024).toFixed(0)} KiB; first render ${result.firstRenderP50Ms} ms p50, ${result.firstRenderMaxMs} ms max (navigation start → rows in the table, ${RUNS} loads)\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await browser.close();
    await running?.close();
    await db.end();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
