/**
 * The approvals inbox when a session cannot speak for its card, in a real browser (Debian's
 * Chromium, a virtual authenticator): a session whose worker is stopped does not answer its
 * `state` query, and the inbox must still show the other sessions' cards (it froze for everyone);
 * a terminated session's query still answers from its history with the approval pending, and its
 * card must leave; a person who approved already is refused a second Approve before signing (the
 * approvals row never records votes; the session's own state lists them). The inbox says how many
 * cards it left out for a session that does not answer, and counts none for an ended one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { SAMPLE_CUSTOMERS } from '../../activities/tools/sample/seed';
import { Gatehouse } from '../../client';
import { STATE_READ_BOUND_MS } from '../../console/inbox';
import { stateQuery } from '../../workflows/contract';
import { pendingApproval, sessionWorkflowId, type Agent } from '../redteam/attacker';
import { card, consoleKit, enrol, heldDelete, outcomeOf, type ConsoleKit, type HeldCall, type Person } from './browser';

let kit: ConsoleKit;
let agent: Agent;
let alice: Person;
let carol: Person;
/** Closed by `after`, newest first, when a test stopped before it closed them itself. */
const leftovers: (() => Promise<void>)[] = [];

before(async () => {
  kit = await consoleKit('inbox_stalls');
  // The agent acts for eng-007: alice (on-call) and carol (sre-leads) may decide its calls.
  agent = await kit.rt.agent('billing-bot', 'eng-007');
  alice = await kit.person('alice');
  carol = await kit.person('carol');
  await enrol(alice, await kit.invite('alice'));
  await enrol(carol, await kit.invite('carol'));
});
after(async () => {
  for (const close of leftovers.reverse()) await close().catch(() => undefined);
  await kit?.close();
});

/**
 * How long a card may take to appear or leave: the bound on a silent session, a feed tick, and a
 * loaded machine's slack. Without the bound the inbox stayed frozen for over a minute.
 */
const SHOWN_WITHIN_MS = STATE_READ_BOUND_MS + 12_000;

const cardOf = (p: Person, approvalId: string) => p.page.locator(`article[data-approval-id="${approvalId}"]`);

/** Waits for the inbox's heading to say `text` (the page follows the pushes). */
async function countSays(p: Person, text: string): Promise<void> {
  await p.page.waitForFunction(`document.querySelector('#count')?.textContent === ${JSON.stringify(text)}`, undefined, { timeout: SHOWN_WITHIN_MS });
}

/** Terminates the held call's session workflow; the agent's call then fails with it. */
async function terminate(held: HeldCall, why: string): Promise<void> {
  held.call.catch(() => undefined);
  await kit.rt.raw.workflow.getHandle(sessionWorkflowId(held.s.sessionId)).terminate(why);
}

describe('console: the inbox when a session cannot speak for its card', () => {
  it('a session whose worker is stopped leaves its own card out, not everyone\'s: a live session\'s card appears, and its own comes back once a worker runs it', async () => {
    // A worker of its own on a queue of its own, which the test stops.
    const queue = `${kit.rt.h.taskQueue}-stalled`;
    const startWorker = async (): Promise<{ worker: Worker; running: Promise<void> }> => {
      const worker = await kit.rt.h.worker({ taskQueue: queue, workerOptions: { shutdownGraceTime: '10s' } });
      const w = { worker, running: worker.run() };
      leftovers.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await w.running;
      });
      return w;
    };
    const side = await startWorker();
    const gh = await Gatehouse.connect({ address: kit.rt.h.address, namespace: kit.rt.h.namespace, taskQueue: queue, token: agent.token });
    leftovers.push(() => gh.close());
    const stalled = await heldDelete({ ...agent, gh }, { customerId: SAMPLE_CUSTOMERS[1]!.id });
    leftovers.push(() => terminate(stalled, 'test cleanup'));
    await card(alice, stalled.approvalId);

    side.worker.shutdown();
    await side.running;
    const live = await heldDelete(agent, { customerId: SAMPLE_CUSTOMERS[2]!.id });
    leftovers.push(() => terminate(live, 'test cleanup'));
    await cardOf(alice, live.approvalId).waitFor({ timeout: SHOWN_WITHIN_MS });
    // The silent session's card is left out (its call still waits: the row is pending), and the page says so.
    await cardOf(alice, stalled.approvalId).waitFor({ state: 'detached', timeout: SHOWN_WITHIN_MS });
    await countSays(alice, '1 pending · 1 more waiting on a session that does not answer; shown once it does');
    await alice.shot('stalled-session-left-out');

    const again = await startWorker();
    await cardOf(alice, stalled.approvalId).waitFor({ timeout: SHOWN_WITHIN_MS });
    await countSays(alice, '2 pending');
    await terminate(stalled, 'done');
    await terminate(live, 'done');
    again.worker.shutdown();
    await again.running;
  });

  it('a terminated session\'s card leaves the inbox, and a vote on it is refused before signing', async () => {
    const held = await heldDelete(agent, { customerId: SAMPLE_CUSTOMERS[3]!.id });
    await card(alice, held.approvalId);
    const workflowId = sessionWorkflowId(held.s.sessionId);
    await terminate(held, 'stopped by an operator for the test');
    // Its row stays pending for good, and its `state` query still answers with the approval pending.
    const view = await kit.rt.raw.workflow.getHandle(workflowId).query(stateQuery);
    assert.deepEqual(view.pendingApprovals.map((p) => p.approvalId), [held.approvalId]);
    await cardOf(alice, held.approvalId).waitFor({ state: 'detached', timeout: SHOWN_WITHIN_MS });
    // An ended session is not one that may still answer: nothing is counted for it.
    await countSays(alice, '0 pending');
    await alice.shot('terminated-session-left-out');
    const prepared = await alice.api(`/api/approvals/${held.approvalId}/prepare`, { verdict: 'approve' });
    assert.deepEqual(prepared, {
      status: 409,
      body: { code: 'session-gone', message: `the session of approval \`${held.approvalId}\` is not running: the approval can no longer be decided` },
    });
  });

  it('refuses a second Approve by the same person before it is signed, and says so on the card', async () => {
    const s = await agent.gh.startSession({ intent: 'free the scratch volume' });
    const call = s.propose({ tool: 'volumes.delete', args: { volumeId: 'vol-scratch01' }, reasoning: 'unused since the migration' });
    const p = await pendingApproval(s);
    assert.equal(p.approversRequired, 2);
    const c = await card(carol, p.approvalId);
    await c.locator('button.approve').click();
    assert.equal(await outcomeOf(c), 'approved by carol: pending');
    assert.deepEqual((await pendingApproval(s, p.approvalId)).approvedBy, ['carol']);

    // The second click: the console refuses at `prepare`, so nothing reaches the passkey or the session.
    const decides: string[] = [];
    carol.page.on('request', (r) => {
      if (/\/decide$/.test(new URL(r.url()).pathname)) decides.push(r.url());
    });
    const prepared = carol.page.waitForResponse((r) => /\/api\/approvals\/[^/]+\/prepare$/.test(new URL(r.url()).pathname));
    await c.locator('button.approve').click();
    const res = await prepared;
    const message = '`carol` already approved this call: distinct approvers are needed';
    assert.deepEqual({ status: res.status(), body: await res.json() }, { status: 409, body: { code: 'already-approved-by-you', message } });
    assert.equal(await outcomeOf(c), `refused (already-approved-by-you): ${message}`);
    await carol.shot('approved-already');
    assert.deepEqual(decides, []);
    assert.deepEqual((await pendingApproval(s, p.approvalId)).approvedBy, ['carol']);
    // The session saw no second vote: no `approval.duplicate` alert in its trail.
    assert.deepEqual((await kit.rt.h.events(s.sessionId)).filter((e) => e.kind === 'alert').map((e) => e.detail?.rule), []);

    // A deny after her approve is hers to cast: it settles the call.
    const d = await carol.api(`/api/approvals/${p.approvalId}/prepare`, { verdict: 'deny', reason: 'keep it for now' });
    assert.equal((await carol.api(`/api/approvals/${p.approvalId}/decide`, { payload: d.body.payload, assertion: await carol.sign(d.body.options) })).status, 200);
    assert.equal((await call).status, 'denied');
  });
});
