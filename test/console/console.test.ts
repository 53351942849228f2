/**
 * The console in a real browser (Debian's Chromium, headless, playwright-core) with passkeys from
 * Chromium's virtual authenticator: enrol from an invite, sign in, approve a held
 * `billing.deleteRecords` from the inbox (the workflow resumes, the rows go, `audit verify` proves
 * the passkey signed that call), deny with a reason, the session's owner refused by four eyes, and
 * every forgery a person's browser could send — a tampered payload, a replayed assertion, an
 * assertion for another approval, an expired or reused invite, no CSRF token — refused with a
 * clear error and nothing decided. Each page's screenshot path is printed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SAMPLE_CUSTOMERS } from '../../activities/tools/sample/seed';
import { startConsole } from '../../console/server';
import { ConsoleStore } from '../../console/store';
import { assertAuditVerifies, assertNotExecuted, pendingApproval, productionSnapshot, trust, type Agent } from '../redteam/attacker';
import { card, consoleKit, enrol, heldDelete as heldCustomerDelete, outcomeOf, type ConsoleKit, type HeldCall, type Person } from './browser';

let kit: ConsoleKit;
let agent: Agent;
let alice: Person;

before(async () => {
  kit = await consoleKit('console');
  // The agent acts for eng-007, who is in the `on-call` group: four eyes keeps eng-007 from deciding.
  agent = await kit.rt.agent('billing-bot', 'eng-007');
  alice = await kit.person('alice');
});
after(async () => {
  await kit?.close();
});

const rows = async (customerId: string): Promise<number> =>
  (await kit.rt.h.production.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM billing_records WHERE customer_id = $1', [customerId])).rows[0]!.n;

/** A session holding `billing.deleteRecords` of one customer for approval. */
async function heldDelete(customer: number): Promise<HeldCall & { customerId: string }> {
  const customerId = SAMPLE_CUSTOMERS[customer]!.id;
  return { ...(await heldCustomerDelete(agent, { customerId })), customerId };
}

describe('console: passkeys and the approvals inbox', () => {
  it('enrols alice from an invite, signs her in again with the passkey, and refuses the used link', async () => {
    const link = await kit.invite('alice');
    assert.match(link, /\/enrol#[A-Za-z0-9_-]{40,}$/);
    await enrol(alice, link);
    await alice.shot('inbox-empty');
    await alice.context.clearCookies();
    await alice.page.goto(new URL('/', kit.console.url).toString());
    await alice.page.locator('#signin').waitFor();
    await alice.shot('signin');
    await alice.page.click('#signin');
    await alice.page.locator('#me', { hasText: 'alice (approver)' }).waitFor();
    // The same link again: one use only.
    const again = await kit.person('alice-again');
    await again.page.goto(link);
    await again.page.locator('#status', { hasText: 'already used' }).waitFor();
    await again.shot('invite-used');
  });

  it('signs alice in while an agent floods the public sign-in options: no challenge of hers is pushed out', async () => {
    await alice.context.clearCookies();
    await alice.page.goto(new URL('/', kit.console.url).toString());
    await alice.page.locator('#signin').waitFor();
    // Between her options and her answer, 10,001 options from a client sending the console's origin
    // (a store of open challenges capped at 10,000 dropped hers, and nobody could sign in).
    let flooded = 0;
    await alice.page.route('**/api/signin/verify', async (route) => {
      const ask = () => fetch(new URL('/api/signin/options', kit.console.url), { method: 'POST', headers: { origin: new URL(kit.console.url).origin, 'content-type': 'application/json' }, body: '{}' });
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (flooded < 10_001) {
          flooded++;
          assert.equal((await ask()).status, 200);
        }
      }));
      await route.continue();
    });
    await alice.page.click('#signin');
    await alice.page.locator('#me', { hasText: 'alice (approver)' }).waitFor();
    assert.ok(flooded >= 10_001);
    await alice.page.unroute('**/api/signin/verify');
  });

  it('keeps its origin across a restart when its preferred port is free (a passkey signs for one origin); taken, it says it fell back', async () => {
    const options = { pool: kit.rt.h.audit.pool, client: kit.rt.raw, keyset: trust.keyset, registrar: trust.registrar };
    const taken = await startConsole({ ...options, preferredPort: Number(new URL(kit.console.url).port) });
    assert.equal(taken.fellBack, true);
    assert.notEqual(taken.url, kit.console.url);
    await taken.close();
    const again = await startConsole({ ...options, preferredPort: Number(new URL(taken.url).port) });
    assert.deepEqual([again.url, again.fellBack], [taken.url, false]);
    await again.close();
  });

  it('refuses an expired invite with its expiry', async () => {
    const store = new ConsoleStore(kit.rt.h.audit.pool);
    const { secret } = await store.createInvite('bob', 'approver', 60_000, 'test', Date.now() - 3_600_000);
    const p = await kit.person('bob-late');
    await p.page.goto(new URL(`/enrol#${secret}`, kit.console.url).toString());
    await p.page.locator('#status', { hasText: /this enrolment link expired at .+: ask for a new invite/ }).waitFor();
    await p.shot('invite-expired');
  });

  it('approves a held billing.deleteRecords from the inbox: the workflow resumes, the rows go, audit verify holds', async () => {
    const held = await heldDelete(5);
    assert.ok((await rows(held.customerId)) > 0);
    const c = await card(alice, held.approvalId);
    // Everything needed to judge on one card, rendered from the workflow's pending approval.
    const text = await c.innerText();
    for (const want of ['billing.deleteRecords', held.customerId, 'the customer left', 'remove a churned customer', 'billing-bot for eng-007', 'on-call: alice, bob, eng-007', 'four eyes: not eng-007', 'escalation level 0']) {
      assert.ok(text.includes(want), `the card shows \`${want}\`:\n${text}`);
    }
    await c.locator('button.approve').click();
    assert.equal(await outcomeOf(c), 'approved by alice: approved');
    assert.match(await c.locator('.digest').innerText(), /signing digest [0-9a-f]{64}/);
    await alice.shot('approved');
    assert.equal((await held.call).status, 'executed');
    assert.equal(await rows(held.customerId), 0);
    const approved = (await kit.rt.h.events(held.s.sessionId)).find((e) => e.kind === 'approved');
    assert.equal(approved?.approver, 'alice');
    assert.match(String(approved?.detail?.keyId), /^p256:[0-9a-f]{32}$/);
    await assertAuditVerifies(kit.rt.h);
  });

  it('denies with a reason: the call does not run', async () => {
    const held = await heldDelete(4);
    const before = await productionSnapshot(kit.rt.h);
    const c = await card(alice, held.approvalId);
    await c.locator('input.reason').fill('not during the audit freeze');
    await c.locator('button.deny').click();
    assert.equal(await outcomeOf(c), 'denied by alice: denied');
    await alice.shot('denied');
    assert.equal((await held.call).status, 'denied');
    assert.deepEqual(await productionSnapshot(kit.rt.h), before);
    await assertNotExecuted(kit.rt.h, held.s.sessionId);
    const denied = (await kit.rt.h.events(held.s.sessionId)).find((e) => e.kind === 'denied');
    assert.equal(denied?.detail?.reason, 'not during the audit freeze');
  });

  it('draws an agent\'s bidi overrides and invisible characters as escapes, and wraps the arguments whole', async () => {
    // The agent's text: a right-to-left override (the screen would read the tail reversed), zero-width and filler characters.
    const s = await agent.gh.startSession({ intent: 'remove a churned customer\'s invoices \u202eseciovni lla\u202c' });
    const customerId = SAMPLE_CUSTOMERS[3]!.id;
    const call = s.propose({ tool: 'billing.deleteRecords', args: { customerId }, reasoning: 'the customer left\u200b\u3164 and nothing else' });
    const { approvalId } = await pendingApproval(s);
    const c = await card(alice, approvalId);
    const text = await c.innerText();
    assert.deepEqual([...text].filter((ch) => /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u.test(ch)), [], 'no hidden character is drawn raw');
    for (const want of ['invoices \\u202eseciovni lla\\u202c', 'the customer left\\u200b\\u3164', '4 hidden characters']) assert.ok(text.includes(want), `the card shows \`${want}\`:\n${text}`);
    assert.equal(await alice.page.evaluate(`getComputedStyle(document.querySelector('article[data-approval-id="${approvalId}"] pre.args')).whiteSpace`), 'pre-wrap', 'long arguments wrap: no part of them sits past the edge');
    await c.locator('input.reason').fill('spoofed text');
    await c.locator('button.deny').click();
    assert.equal(await outcomeOf(c), 'denied by alice: denied');
    assert.equal((await call).status, 'denied');
  });

  it('refuses the session\'s owner with the four-eyes reason, and nothing is decided', async () => {
    const owner = await kit.person('eng-007');
    await enrol(owner, await kit.invite('eng-007'));
    const held = await heldDelete(3);
    const c = await card(owner, held.approvalId);
    await c.locator('button.approve').click();
    assert.equal(await outcomeOf(c), 'refused (four-eyes): `eng-007` owns this session and the policy requires someone else to decide (four eyes)');
    await owner.shot('four-eyes');
    const still = await pendingApproval(held.s, held.approvalId);
    assert.deepEqual(still.approvedBy, []);
    // Alice ends it with a deny so the session does not wait on.
    const d = await alice.api(`/api/approvals/${held.approvalId}/prepare`, { verdict: 'deny', reason: 'cleanup' });
    assert.equal((await alice.api(`/api/approvals/${held.approvalId}/decide`, { payload: d.body.payload, assertion: await alice.sign(d.body.options) })).status, 200);
    assert.equal((await held.call).status, 'denied');
  });

  it('refuses a tampered payload, an assertion for another approval, a replayed assertion and a request without the csrf token', async () => {
    const before = await productionSnapshot(kit.rt.h);
    const a = await heldDelete(2);
    const b = await heldDelete(1);
    await card(alice, b.approvalId);
    await alice.shot('inbox-two');

    // No csrf token: refused before anything is prepared.
    const noCsrf = await alice.api(`/api/approvals/${a.approvalId}/prepare`, { verdict: 'approve' }, { csrf: false });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.code, 'csrf');

    // Tampered: the page signs a deny, the request carries an approve.
    const deny = await alice.api(`/api/approvals/${a.approvalId}/prepare`, { verdict: 'deny', reason: 'no' });
    const signedDeny = await alice.sign(deny.body.options);
    const tampered = Buffer.from(Buffer.from(deny.body.payload, 'base64').toString('utf8').replace('"verdict":"deny"', '"verdict":"approve"')).toString('base64');
    const t = await alice.api(`/api/approvals/${a.approvalId}/decide`, { payload: tampered, assertion: signedDeny });
    assert.equal(t.status, 400);
    assert.equal(t.body.code, 'webauthn.challenge');
    assert.equal(t.body.message, 'the passkey signed another payload than this envelope carries');

    // For another approval: signed for `a`, sent for `b`.
    const approveA = await alice.api(`/api/approvals/${a.approvalId}/prepare`, { verdict: 'approve' });
    const signedA = await alice.sign(approveA.body.options);
    const other = await alice.api(`/api/approvals/${b.approvalId}/decide`, { payload: approveA.body.payload, assertion: signedA });
    assert.equal(other.status, 400);
    assert.match(other.body.message, new RegExp(`signed for (approval|session) \``));
    assert.deepEqual((await pendingApproval(a.s, a.approvalId)).approvedBy, []);
    assert.deepEqual((await pendingApproval(b.s, b.approvalId)).approvedBy, []);

    // Replayed: the deny counts once; the same assertion again is refused.
    const first = await alice.api(`/api/approvals/${a.approvalId}/decide`, { payload: deny.body.payload, assertion: signedDeny });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((await a.call).status, 'denied');
    const replay = await alice.api(`/api/approvals/${a.approvalId}/decide`, { payload: deny.body.payload, assertion: signedDeny });
    assert.equal(replay.status, 409);
    assert.equal(replay.body.code, 'already-decided');
    await alice.shot('after-refusals');

    // b is still pending and nothing ran: deny it to finish.
    const dB = await alice.api(`/api/approvals/${b.approvalId}/prepare`, { verdict: 'deny', reason: 'cleanup' });
    const signedB = await alice.sign(dB.body.options);
    assert.equal((await alice.api(`/api/approvals/${b.approvalId}/decide`, { payload: dB.body.payload, assertion: signedB })).status, 200);
    // The same signed deny replayed at a still-open approval would be refused by its nonce: the workflow's rule, checked here first.
    assert.equal((await b.call).status, 'denied');
    assert.deepEqual(await productionSnapshot(kit.rt.h), before);
    await assertNotExecuted(kit.rt.h, a.s.sessionId);
    await assertNotExecuted(kit.rt.h, b.s.sessionId);
    await assertAuditVerifies(kit.rt.h);
  });

  it('shows a second approver the ladder needs, refuses a replayed assertion by its nonce, then counts the second', async () => {
    const carol = await kit.person('carol');
    const dave = await kit.person('dave');
    await enrol(carol, await kit.invite('carol'));
    await enrol(dave, await kit.invite('dave'));
    const s = await agent.gh.startSession({ intent: 'free the scratch volume' });
    const call = s.propose({ tool: 'volumes.delete', args: { volumeId: 'vol-scratch01' }, reasoning: 'unused since the migration' });
    const p = await pendingApproval(s);
    const c = await card(carol, p.approvalId);
    assert.match(await c.locator('.who').innerText(), /sre-leads: carol, dave; 2 approval\(s\) needed, approved so far: none/);
    const prepared = await carol.api(`/api/approvals/${p.approvalId}/prepare`, { verdict: 'approve' });
    const signed = await carol.sign(prepared.body.options);
    const first = await carol.api(`/api/approvals/${p.approvalId}/decide`, { payload: prepared.body.payload, assertion: signed });
    assert.deepEqual(first.body, { counted: true, approver: 'carol', status: 'pending' });
    const replay = await carol.api(`/api/approvals/${p.approvalId}/decide`, { payload: prepared.body.payload, assertion: signed });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.code, 'decision.replayed');
    assert.deepEqual((await pendingApproval(s, p.approvalId)).approvedBy, ['carol']);
    // Dave's inbox shows carol's approval counted and one more needed; his click settles it.
    const d = await card(dave, p.approvalId);
    await d.locator('.who', { hasText: 'approved so far: carol' }).waitFor();
    await dave.shot('second-approver');
    await d.locator('button.approve').click();
    assert.equal(await outcomeOf(d), 'approved by dave: approved');
    assert.equal((await call).status, 'executed');
    const approvers = (await kit.rt.h.events(s.sessionId)).filter((e) => e.kind === 'approved').map((e) => e.approver);
    assert.deepEqual(approvers, ['carol', 'dave']);
    await assertAuditVerifies(kit.rt.h);
  });
});
