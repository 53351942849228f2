/**
 * What the console tells a person whose signed vote decided nothing, in a real browser (Debian's
 * Chromium, a virtual authenticator): the session workflow was terminated after the call was held
 * (409 `session-gone`); no worker runs the session, so the vote went as the `approval` signal and
 * got no answer (504 `not-answered`, which counts once a worker runs it again); the session refused
 * a vote the console's own checks passed, because the console trusts a registrar key the worker's
 * keyset does not hold (409 `session-refused`). Each time: the exact status and code, the card's
 * outcome line, and nothing decided — the approvals row still pending, no vote in the trail, the
 * call not run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { SAMPLE_CUSTOMERS } from '../../activities/tools/sample/seed';
import { ApprovalStore } from '../../approvals/store';
import { Gatehouse } from '../../client';
import { generateSigningKey, keyEntryOf } from '../../client/trust/key-files';
import { startConsole } from '../../console/server';
import { assertNotExecuted, pendingApproval, sessionWorkflowId, trust, type Agent } from '../redteam/attacker';
import { card, consoleKit, enrol, heldDelete, outcomeOf, type ConsoleKit, type HeldCall, type Person } from './browser';

let kit: ConsoleKit;
let agent: Agent;
let alice: Person;
let approvals: ApprovalStore;
/** Closed by `after` when a test stopped before it closed them itself. */
const leftovers: (() => Promise<void>)[] = [];

before(async () => {
  kit = await consoleKit('vote_answers');
  agent = await kit.rt.agent('billing-bot', 'eng-007');
  approvals = new ApprovalStore(kit.rt.h.audit.pool);
  alice = await kit.person('alice');
  await enrol(alice, await kit.invite('alice'));
});
after(async () => {
  for (const close of leftovers.reverse()) await close().catch(() => undefined);
  await kit?.close();
});

const rows = async (customerId: string): Promise<number> =>
  (await kit.rt.h.production.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM billing_records WHERE customer_id = $1', [customerId])).rows[0]!.n;

/** Clicks Approve on the card and returns the console's answer to the page's `decide` call. */
async function approveOnCard(p: Person, c: Awaited<ReturnType<typeof card>>): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const answered = p.page.waitForResponse((r) => r.request().method() === 'POST' && /\/api\/approvals\/[^/]+\/decide$/.test(new URL(r.url()).pathname));
  await c.locator('button.approve').click();
  const res = await answered;
  return { status: res.status(), body: await res.json() };
}

/** Nothing was decided: the row is pending, the trail has no vote, the call did not run, the rows are all there. */
async function assertUndecided(held: HeldCall, customerId: string, rowsBefore: number): Promise<void> {
  assert.ok(rowsBefore > 0, `customer \`${customerId}\` has rows the call would delete`);
  assert.equal((await approvals.get(held.approvalId))?.status, 'pending');
  const votes = (await kit.rt.h.events(held.s.sessionId)).filter((e) => e.kind === 'approved' || e.kind === 'denied');
  assert.deepEqual(votes.map((e) => `${e.kind} by ${e.approver}`), []);
  await assertNotExecuted(kit.rt.h, held.s.sessionId);
  assert.equal(await rows(customerId), rowsBefore);
}

describe('console: a vote the session did not count', () => {
  it('409 session-gone: the session was terminated between prepare and decide, while its row still says pending', async () => {
    const customerId = SAMPLE_CUSTOMERS[5]!.id;
    const held = await heldDelete(agent, { customerId });
    const call = held.call.then((r) => r, (err: unknown) => err);
    const rowsBefore = await rows(customerId);
    const workflowId = sessionWorkflowId(held.s.sessionId);
    const c = await card(alice, held.approvalId);
    // The person has signed; before the console sends the vote, an operator terminates the session.
    await alice.page.route('**/api/approvals/*/decide', async (route) => {
      await kit.rt.raw.workflow.getHandle(workflowId).terminate('stopped by an operator for the test');
      await route.continue();
    });
    const answer = await approveOnCard(alice, c);
    await alice.page.unroute('**/api/approvals/*/decide');
    const message = `session workflow \`${workflowId}\` is not running: the approval can no longer be decided`;
    assert.deepEqual(answer, { status: 409, body: { code: 'session-gone', message } });
    assert.equal(await outcomeOf(c), `refused (session-gone): ${message}`);
    await alice.shot('session-gone');
    assert.equal((await kit.rt.raw.workflow.getHandle(workflowId).describe()).status.name, 'TERMINATED');
    // The agent's held call ends with the session, unanswered.
    assert.ok(await call instanceof Error, 'the held call fails with the terminated session');
    await assertUndecided(held, customerId, rowsBefore);
  });

  it('409 session-refused: the console trusts a registrar the worker\'s keyset does not hold; the session refuses, nothing is counted', async () => {
    const customerId = SAMPLE_CUSTOMERS[3]!.id;
    // A console whose registrar key was added to its keyset and not to the worker's.
    const registrar = generateSigningKey('test-console-new', 'registrar');
    const keyset = { ...trust.keyset, keys: [...trust.keyset.keys, keyEntryOf(registrar)] };
    const other = await startConsole({ pool: kit.rt.h.audit.pool, client: kit.rt.raw, keyset, registrar });
    const bob = await kit.person('bob');
    // Bob's page first: the console's close waits for its open event stream.
    let closing: Promise<void> | undefined;
    const closeOther = () => (closing ??= bob.context.close().then(() => other.close()));
    leftovers.push(closeOther);
    const link = new URL(await kit.invite('bob'));
    await enrol(bob, new URL(`/enrol${link.hash}`, other.url).toString());

    const held = await heldDelete(agent, { customerId });
    const rowsBefore = await rows(customerId);
    const c = await card(bob, held.approvalId);
    const answer = await approveOnCard(bob, c);
    assert.equal(answer.status, 409, JSON.stringify(answer.body));
    assert.equal(answer.body.code, 'session-refused');
    const message = `the session refused the vote (envelope.unknown-key): the passkey's grant: unknown key id \`${registrar.keyId}\`; nothing was counted`;
    assert.equal(answer.body.message, message);
    assert.equal(await outcomeOf(c), `refused (session-refused): ${message}`);
    await bob.shot('session-refused');
    assert.deepEqual((await pendingApproval(held.s, held.approvalId)).approvedBy, []);
    await assertUndecided(held, customerId, rowsBefore);
    // The session's own alert names the rule it refused under.
    const alerts = (await kit.rt.h.events(held.s.sessionId)).filter((e) => e.kind === 'alert').map((e) => e.detail?.rule);
    assert.deepEqual(alerts, ['envelope.unknown-key']);

    // Alice, whose passkey the worker trusts, ends it with a deny.
    const d = await alice.api(`/api/approvals/${held.approvalId}/prepare`, { verdict: 'deny', reason: 'cleanup' });
    assert.equal((await alice.api(`/api/approvals/${held.approvalId}/decide`, { payload: d.body.payload, assertion: await alice.sign(d.body.options) })).status, 200);
    assert.equal((await held.call).status, 'denied');
    await closeOther();
  });

  it('504 not-answered: no worker runs the session, so the vote went as the signal; the card says it was sent, and it counts once a worker runs', async () => {
    const customerId = SAMPLE_CUSTOMERS[4]!.id;
    // A worker of its own on a queue of its own, stopped between the person's prepare and decide.
    const queue = `${kit.rt.h.taskQueue}-unanswered`;
    const startWorker = async (): Promise<{ worker: Worker; running: Promise<void> }> => {
      const worker = await kit.rt.h.worker({ taskQueue: queue, workerOptions: { shutdownGraceTime: '10s' } });
      const w = { worker, running: worker.run() };
      const stop = async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await w.running;
      };
      leftovers.push(stop);
      return w;
    };
    let side = await startWorker();
    const gh = await Gatehouse.connect({ address: kit.rt.h.address, namespace: kit.rt.h.namespace, taskQueue: queue, token: agent.token });
    leftovers.push(() => gh.close());
    const held = await heldDelete({ ...agent, gh }, { customerId });
    // Should the test stop before a worker ran it again, nothing is left waiting on the server.
    leftovers.push(() => kit.rt.raw.workflow.getHandle(sessionWorkflowId(held.s.sessionId)).terminate('test cleanup').then(() => undefined));
    const rowsBefore = await rows(customerId);
    const c = await card(alice, held.approvalId);
    await alice.page.route('**/api/approvals/*/decide', async (route) => {
      side.worker.shutdown();
      await side.running;
      await route.continue();
    });
    const answer = await approveOnCard(alice, c);
    await alice.page.unroute('**/api/approvals/*/decide');
    const message = 'the vote was sent and the session has not answered yet (is its worker running?): it counts or refuses the vote when it runs; see its trail (`gatehouse trace`)';
    assert.deepEqual(answer, { status: 504, body: { code: 'not-answered', message } });
    // The update was not accepted, so the vote went as the `approval` signal: in the session's history, waiting for a worker.
    const history = await kit.rt.raw.workflow.getHandle(sessionWorkflowId(held.s.sessionId)).fetchHistory();
    const signals = (history.events ?? []).flatMap((e) => (e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.signalName] : []));
    assert.deepEqual(signals, ['approval']);
    // Sent, not refused: the page must not tell the person their vote was refused.
    assert.equal(await outcomeOf(c), `sent, not answered yet (not-answered): ${message}`);
    assert.equal(await c.locator('.outcome.error').count(), 0, 'not drawn as a refusal');
    // And no second vote of hers while the first waits: both buttons are off on this card.
    assert.deepEqual([await c.locator('button.approve').isDisabled(), await c.locator('button.deny').isDisabled()], [true, true]);
    await alice.shot('not-answered');
    await assertUndecided(held, customerId, rowsBefore);

    // A worker runs the session again: the signal it holds counts alice's vote, once.
    side = await startWorker();
    assert.equal((await held.call).status, 'executed');
    const votes = (await kit.rt.h.events(held.s.sessionId)).filter((e) => e.kind === 'approved' || e.kind === 'denied');
    assert.deepEqual(votes.map((e) => `${e.kind} by ${e.approver}`), ['approved by alice']);
    assert.equal(await rows(customerId), 0);
    side.worker.shutdown();
    await side.running;
  });
});
