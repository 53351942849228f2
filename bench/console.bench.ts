/**
 * `npm run bench:console`, three parts (`BENCH_CONSOLE_PART=list|inbox|click`, all by default; the
 * inbox part, `BENCH_INBOX` held calls, is bench/fixtures/console-inbox.ts):
 *
 * - list: the console's sessions list with `BENCH_SESSIONS` (1,000) sessions — half running (their
 *   counts read from their events), half finished — in a fresh embedded PostgreSQL. Measures the
 *   list's API answer (`GET /api/sessions`, all rows, from the page) and the time to first render
 *   in headless Chromium: from navigation start until the pushed list's rows are in the table (the
 *   page stamps `performance.now()` when it renders them), `RUNS` (5) loads each. No Temporal.
 * - click: an approver signed in with a passkey (Chromium's virtual authenticator) approves
 *   `BENCH_CLICKS` (100, after 5 warm-up) held `billing.deleteRecords` calls, each in its own
 *   session, one at a time, from the inbox. Two end points, from just before the Playwright click
 *   on Approve: *resumed* — the first command the workflow issues after verifying the vote (the
 *   first activity scheduled after the `approval` signal in the history; its event time against
 *   `Date.now()` at the click: same machine, same clock), as `bench:approvals` ends; and
 *   *executed* — the agent's `propose` answers `executed` (the audit, the delete and the update's
 *   completion too), on the bench's monotonic clock. Split at the console's `submit` (signed vote
 *   received), its signal accepted, and the signal's workflow task in the history.
 *
 * Last line: one JSON object with the figures of the parts run.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { SAMPLE_CUSTOMERS } from '../activities/tools/sample/seed';
import { migrate } from '../audit/migrate';
import { AuditStore } from '../audit/store';
import type { AuditEventInput } from '../audit/types';
import { startConsole } from '../console/server';
import { ConsoleStore } from '../console/store';
import { ConsoleVotes } from '../console/votes';
import type { Decision } from '../policies/types';
import { card, CHROMIUM, consoleKit, enrol, heldDelete, outcomeOf } from '../test/console/browser';
import { testTrust } from '../test/support/trust';
import { startEmbeddedPostgres } from '../worker/devstack/postgres';
import { sessionWorkflowId } from '../workflows/contract';
import { inboxPart } from './fixtures/console-inbox';
import { pct } from './fixtures/percentile';
import { resumedAt } from './fixtures/resumed';

const PART = process.env.BENCH_CONSOLE_PART ?? 'both';
const CLICKS = Number(process.env.BENCH_CLICKS ?? 100);
const WARMUP = 5;
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

async function listPart(): Promise<Record<string, number>> {
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
    return result;
  } finally {
    await browser.close();
    await running?.close();
    await db.end();
    await server.stop();
  }
}

/** The `k`th distinct (customer, month) of the seeded invoices: two real rows each, 120 in all. */
function filterOf(k: number): { customerId: string; period: string } {
  const customer = SAMPLE_CUSTOMERS[k % SAMPLE_CUSTOMERS.length]!;
  const back = 1 + (Math.floor(k / SAMPLE_CUSTOMERS.length) % 20);
  const now = new Date();
  const m = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));
  return { customerId: customer.id, period: m.toISOString().slice(0, 7) };
}

const ms = (xs: number[], p: number) => +pct([...xs].sort((a, b) => a - b), p).toFixed(1);

async function clickPart(): Promise<Record<string, number>> {
  const kit = await consoleKit('bench_click');
  // Timing aids (the bench's clock, same process as the console): when `submit` got the signed
  // vote, and when its signal to the session workflow was accepted by the server.
  const received = new Map<string, number>();
  const signalled = new Map<string, number>();
  const signalStarted = new Map<string, number>();
  const queries = new Map<string, [number, number][]>();
  const submit = ConsoleVotes.prototype.submit;
  ConsoleVotes.prototype.submit = function (this: ConsoleVotes, ...a: Parameters<typeof submit>) {
    received.set(a[1], performance.now());
    return submit.apply(this, a);
  };
  const wf = kit.rt.raw.workflow;
  const getHandle = wf.getHandle.bind(wf);
  wf.getHandle = ((...a: Parameters<typeof getHandle>) => {
    const h = getHandle(...a);
    const signal = h.signal.bind(h);
    const query = h.query.bind(h);
    return Object.assign(h, {
      signal: async (...s: Parameters<typeof signal>) => {
        signalStarted.set(a[0], performance.now());
        await signal(...s);
        signalled.set(a[0], performance.now());
      },
      query: (async (...q: Parameters<typeof query>) => {
        const t = performance.now();
        try {
          return await query(...q);
        } finally {
          const list = queries.get(a[0]) ?? [];
          list.push([t, performance.now()]);
          queries.set(a[0], list);
        }
      }) as typeof query,
    });
  }) as typeof wf.getHandle;
  try {
    const agent = await kit.rt.agent('billing-bot', 'eng-007');
    const alice = await kit.person('alice');
    await enrol(alice, await kit.invite('alice'));
    const total: number[] = [];
    const toVote: number[] = [];
    const server: number[] = [];
    const toResumed: number[] = [];
    const clickCall: number[] = [];
    const resumed: number[] = [];
    const resumedFromEvent: number[] = [];
    const toSignalEvent: number[] = [];
    const taskWait: number[] = [];
    const task: number[] = [];
    const submitQuery: number[] = [];
    const signalRpc: number[] = [];
    for (let i = 0; i < WARMUP + CLICKS; i += 1) {
      const held = await heldDelete(agent, filterOf(i));
      const c = await card(alice, held.approvalId);
      // The page's own click event too (epoch ms, the browser's clock is this machine's): Playwright's
      // click call runs actionability checks over CDP before it dispatches the mouse events.
      await alice.page.evaluate(`document.addEventListener('click', (e) => { if (e.target.closest('button.approve')) window.__clickAt = performance.timeOrigin + e.timeStamp; }, { capture: true, once: true })`);
      const wall0 = Date.now();
      const t0 = performance.now();
      await c.locator('button.approve').click();
      const clicked = performance.now();
      const r = await held.call;
      const t1 = performance.now();
      if (r.status !== 'executed') throw new Error(`the approved call ended \`${r.status}\`, not executed`);
      // The page's own answer too, so the next click does not overlap this one's tail.
      const outcome = await outcomeOf(c);
      if (!outcome.startsWith('approved by alice')) throw new Error(`the card says \`${outcome}\``);
      const got = received.get(held.approvalId);
      const sent = signalled.get(sessionWorkflowId(held.s.sessionId));
      if (got === undefined || sent === undefined) throw new Error(`no server timing for approval \`${held.approvalId}\``);
      const h = await resumedAt(kit.rt.raw, sessionWorkflowId(held.s.sessionId));
      const clickEvent = Number(await alice.page.evaluate('window.__clickAt'));
      if (!(clickEvent >= wall0 - 1)) throw new Error(`no click event stamped on the page (${clickEvent})`);
      if (i < WARMUP) continue;
      resumed.push(h.scheduled - wall0);
      resumedFromEvent.push(h.scheduled - clickEvent);
      toSignalEvent.push(h.signaled - wall0);
      taskWait.push(h.taskStarted - h.signaled);
      task.push(h.taskCompleted - h.taskStarted);
      const wid = sessionWorkflowId(held.s.sessionId);
      const sigAt = signalStarted.get(wid)!;
      // The state queries `submit` made before signalling (its check against the workflow's own pending approval).
      submitQuery.push((queries.get(wid) ?? []).filter(([a, b]) => a >= got && b <= sigAt).reduce((x, [a, b]) => x + b - a, 0));
      signalRpc.push(sent - sigAt);
      total.push(t1 - t0);
      clickCall.push(clicked - t0);
      toVote.push(got - t0);
      server.push(sent - got);
      toResumed.push(t1 - sent);
    }
    const result = {
      clicks: CLICKS,
      resumedP50Ms: ms(resumed, 50),
      resumedP99Ms: ms(resumed, 99),
      resumedMaxMs: ms(resumed, 100),
      resumedFromClickEventP50Ms: ms(resumedFromEvent, 50),
      resumedFromClickEventP99Ms: ms(resumedFromEvent, 99),
      clickToSignalEventP50Ms: ms(toSignalEvent, 50),
      clickToSignalEventP99Ms: ms(toSignalEvent, 99),
      signalTaskWaitP50Ms: ms(taskWait, 50),
      signalTaskWaitP99Ms: ms(taskWait, 99),
      signalTaskP50Ms: ms(task, 50),
      signalTaskP99Ms: ms(task, 99),
      submitQueryP50Ms: ms(submitQuery, 50),
      signalRpcP50Ms: ms(signalRpc, 50),
      clickP50Ms: ms(total, 50),
      clickP99Ms: ms(total, 99),
      clickMaxMs: ms(total, 100),
      clickToVoteP50Ms: ms(toVote, 50),
      clickToVoteP99Ms: ms(toVote, 99),
      serverP50Ms: ms(server, 50),
      serverP99Ms: ms(server, 99),
      signalToExecutedP50Ms: ms(toResumed, 50),
      signalToExecutedP99Ms: ms(toResumed, 99),
      playwrightClickP50Ms: ms(clickCall, 50),
    };
    process.stdout.write(`click → workflow resumed (first activity scheduled after the verified vote), ${CLICKS} approvals after ${WARMUP} warm-up, one at a time: p50 ${result.resumedP50Ms} ms, p99 ${result.resumedP99Ms} ms, max ${result.resumedMaxMs} ms\n`);
    process.stdout.write(`  from the page's click event instead (no Playwright actionability checks): p50 ${result.resumedFromClickEventP50Ms} / p99 ${result.resumedFromClickEventP99Ms} ms\n`);
    process.stdout.write(`  click → signal in the history: p50 ${result.clickToSignalEventP50Ms} / p99 ${result.clickToSignalEventP99Ms} ms; signal → its workflow task started: p50 ${result.signalTaskWaitP50Ms} / p99 ${result.signalTaskWaitP99Ms} ms; that task (vote verified, next activity scheduled): p50 ${result.signalTaskP50Ms} / p99 ${result.signalTaskP99Ms} ms\n`);
    process.stdout.write(`click → approved call executed (propose answered executed): p50 ${result.clickP50Ms} ms, p99 ${result.clickP99Ms} ms, max ${result.clickMaxMs} ms\n`);
    process.stdout.write(`  click → signed vote at the console: p50 ${result.clickToVoteP50Ms} / p99 ${result.clickToVoteP99Ms} ms (Playwright's click call itself p50 ${result.playwrightClickP50Ms} ms)\n`);
    process.stdout.write(`  vote received → signal accepted (checks, P-256, state query, signal): p50 ${result.serverP50Ms} / p99 ${result.serverP99Ms} ms (of which the state query p50 ${result.submitQueryP50Ms} ms, the signal RPC p50 ${result.signalRpcP50Ms} ms)\n`);
    process.stdout.write(`  signal accepted → executed seen by the agent: p50 ${result.signalToExecutedP50Ms} / p99 ${result.signalToExecutedP99Ms} ms\n`);
    return result;
  } finally {
    ConsoleVotes.prototype.submit = submit;
    await kit.close();
  }
}

async function main(): Promise<void> {
  if (!['both', 'list', 'inbox', 'click'].includes(PART)) throw new Error(`expected BENCH_CONSOLE_PART \`list\`, \`inbox\`, \`click\` or unset, not \`${PART}\``);
  const list = PART === 'both' || PART === 'list' ? await listPart() : {};
  const inbox = PART === 'both' || PART === 'inbox' ? await inboxPart() : {};
  const click = PART === 'both' || PART === 'click' ? await clickPart() : {};
  process.stdout.write(`${JSON.stringify({ ...list, ...inbox, ...click })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
