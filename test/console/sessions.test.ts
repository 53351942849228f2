/**
 * The console's pages for engineers and operators in a real browser (Debian's Chromium, headless,
 * passkeys from Chromium's virtual authenticator): the sessions list and a session's timeline with
 * an executed, a refused and a held call; an approver sees no operator buttons and the server
 * refuses her halt (403); an operator pauses, resumes and raises the budget with his passkey (the
 * workflow verifies and records each), then halts the session from its page; an alert reviewed as
 * "agent was right" lands in the review chain and the per-rule count, whose link backtests the
 * policy without the rule; the paths of a shipped example drawn; a draft's backtest shows a changed
 * decision, an invalid draft its issues. Each page's screenshot path is printed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SessionHandle } from '../../client';
import { pauseSignal } from '../../workflows/contract';
import { MAX_TIMELINE, sessionPage } from '../../console/fleet';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample';
import { SAMPLE_CUSTOMERS } from '../../activities/tools/sample/seed';
import { checkReviewChain } from '../../audit/alert-reviews';
import { verifyDatabase } from '../../audit/verify';
import { analyzePaths, compilePolicy, parsePolicyText } from '../../policies';
import { assertAuditVerifies, assertNotExecuted, pendingApproval, trust, type Agent } from '../redteam/attacker';
import { consoleKit, enrol, eventually, type ConsoleKit, type Person } from './browser';

let kit: ConsoleKit;
let agent: Agent;
let alice: Person;
let olivia: Person;
let s: SessionHandle;
let held: Promise<{ status: string }>;
let heldSeq = 0;

before(async () => {
  kit = await consoleKit('console_sessions');
  agent = await kit.rt.agent('billing-bot', 'eng-007');
  alice = await kit.person('alice');
  olivia = await kit.person('olivia');
  await enrol(alice, await kit.invite('alice'));
  await enrol(olivia, await kit.invite('olivia', 'operator'));
  // One session: a read that runs, a forbidden transition refused, a delete held for approval.
  s = await agent.gh.startSession({ intent: 'tidy the scratch volumes' });
  assert.equal((await s.propose({ tool: 'volumes.list', args: {}, reasoning: 'see what is mounted' })).status, 'executed');
  assert.equal((await s.propose({ tool: 'volumes.unmount', args: { volumeId: 'vol-scratch01' }, reasoning: 'unused' })).status, 'denied');
  held = s.propose({ tool: 'billing.deleteRecords', args: { customerId: SAMPLE_CUSTOMERS[0]!.id }, reasoning: 'stale rows' });
  heldSeq = (await pendingApproval(s)).view.counters.proposals + 1;
});
after(async () => {
  await kit?.close();
});

const url = (path: string) => new URL(path, kit.console.url).toString();
const events = () => kit.rt.h.events(s.sessionId);

describe('console: sessions, alerts and policy', () => {
  it('lists the session live with its counts and filters, and shows its timeline: executed, refused, held', async () => {
    await olivia.page.goto(url('/sessions'));
    const row = olivia.page.locator(`tr[data-session-id="${s.sessionId}"]`);
    await row.waitFor();
    assert.equal(await row.locator('.status').innerText(), 'running');
    assert.equal(await row.locator('.counts').innerText(), '3 proposed · 1 ran · 1 refused');
    await olivia.shot('sessions');
    // Filters: another owner hides it, its owner and status show it.
    await olivia.page.fill('input[name=owner]', 'nobody');
    await olivia.page.click('form.filters button');
    await row.waitFor({ state: 'detached' });
    await olivia.page.fill('input[name=owner]', 'eng-007');
    await olivia.page.selectOption('select[name=status]', 'running');
    await olivia.page.click('form.filters button');
    await row.waitFor();
    assert.match(olivia.page.url(), /status=running&owner=eng-007$/);

    await row.locator('a').click();
    const ran = olivia.page.locator('li.proposal[data-tool="volumes.list"]');
    await ran.waitFor();
    assert.equal(await ran.getAttribute('data-status'), 'executed');
    const refused = olivia.page.locator('li.proposal[data-tool="volumes.unmount"]');
    assert.equal(await refused.getAttribute('data-status'), 'denied');
    assert.match(await refused.locator('.facts').innerText(), /verdict deny \(transition\.forbidden, tier\.write\) · outcome denied/);
    const wait = olivia.page.locator('li.proposal[data-tool="billing.deleteRecords"]');
    assert.equal(await wait.getAttribute('data-status'), 'pending');
    assert.match(await wait.locator('.facts').innerText(), /verdict approve \(.+\) · approval wait \d/);
    await olivia.page.locator('svg.intent-chart').waitFor();
    await olivia.page.locator('#operator').waitFor();
    await olivia.shot('session');
  });

  it('shows an approver no operator buttons, and the server refuses her halt and resume (403)', async () => {
    await alice.page.goto(url(`/sessions/${s.sessionId}`));
    await alice.page.locator('li.proposal[data-tool="volumes.list"]').waitFor();
    assert.equal(await alice.page.locator('#operator').count(), 0);
    for (const [path, body] of [['halt', { reason: 'stop' }], ['pause', {}], ['sign/prepare', { kind: 'resume' }]] as const) {
      const r = await alice.api(`/api/sessions/${s.sessionId}/${path}`, body);
      assert.equal(r.status, 403, path);
      assert.equal(r.body.code, 'role');
      assert.equal(r.body.message, '`alice` signs in as approver, not as an operator');
    }
    const st = await s.state();
    assert.equal(st.halted, false);
    assert.equal(st.paused, false);
    await alice.shot('session-as-approver');
  });

  it('pauses, then resumes and raises the budget with the operator\'s passkey: the workflow verifies and records each', async () => {
    const page = olivia.page;
    await page.goto(url(`/sessions/${s.sessionId}`));
    await page.fill('#op-reason', 'looking into it');
    await page.click('#pause');
    await page.locator('#op-outcome', { hasText: 'paused' }).waitFor();
    assert.equal((await s.state()).paused, true);
    await page.click('#resume');
    await page.locator('#op-outcome', { hasText: 'resumed by olivia' }).waitFor();
    assert.match(await page.locator('#op-digest').innerText(), /signing digest [0-9a-f]{64}/);
    assert.equal((await s.state()).paused, false);
    const resumed = (await events()).find((e) => e.kind === 'resumed');
    assert.equal(resumed?.detail?.by, 'olivia');
    assert.match(String(resumed?.detail?.keyId), /^p256:[0-9a-f]{32}$/);
    await olivia.shot('resumed');
    // A budget raise waits behind a call being decided: raised on an idle session of the agent.
    const idle = await agent.gh.startSession({ intent: 'count the volumes' });
    assert.equal((await idle.propose({ tool: 'volumes.list', args: {}, reasoning: 'count' })).status, 'executed');
    const before = (await idle.state()).budgetLeft.actions;
    await page.goto(url(`/sessions/${idle.sessionId}`));
    await page.fill('#budget-actions', '900');
    await page.click('#raise');
    await page.locator('#op-outcome', { hasText: 'budget raised by olivia' }).waitFor();
    const raised = (await kit.rt.h.events(idle.sessionId)).find((e) => e.kind === 'budget-raised');
    assert.deepEqual(raised?.detail?.budget, { actions: 900 });
    assert.equal(raised?.detail?.by, 'olivia');
    assert.ok((await idle.state()).budgetLeft.actions > before);
    await assertAuditVerifies(kit.rt.h);
  });

  it('shows a tool paused one by one, and signs no resume that would lift it unseen: each tool is resumed by name', async () => {
    const held = await agent.gh.startSession({ intent: 'count the volumes' });
    // An incident pause of one tool (`gatehouse pause --tool`), and a session pause naming an operator.
    await kit.rt.raw.workflow.getHandle(held.workflowId).signal(pauseSignal, { by: 'incident-bot', tool: 'billing.deleteRecords' });
    await kit.rt.raw.workflow.getHandle(held.workflowId).signal(pauseSignal, { by: 'olivia' });
    await eventually(async () => ((await held.state()).pausedTools?.length ? true : undefined), { what: 'the tool paused' });
    await olivia.page.goto(url(`/sessions/${held.sessionId}`));
    await olivia.page.locator('#state', { hasText: 'paused (tools: billing.deleteRecords)' }).waitFor();
    const whole = await olivia.api(`/api/sessions/${held.sessionId}/sign/prepare`, { kind: 'resume' });
    assert.deepEqual([whole.status, whole.body.code], [409, 'tools-paused']);
    assert.match(whole.body.message, /`billing\.deleteRecords`/);
    const other = await olivia.api(`/api/sessions/${held.sessionId}/sign/prepare`, { kind: 'resume', tool: 'volumes.list' });
    assert.deepEqual([other.status, other.body.code], [409, 'not-paused']);
    const byName = await olivia.api(`/api/sessions/${held.sessionId}/sign/prepare`, { kind: 'resume', tool: 'billing.deleteRecords' });
    assert.equal(byName.status, 200);
    assert.match(Buffer.from(String(byName.body.payload), 'base64').toString('utf8'), /"tool":"billing\.deleteRecords"/);
    assert.deepEqual((await held.state()).pausedTools, ['billing.deleteRecords'], 'nothing was lifted by preparing');
  });

  it('shows the latest 200 entries of a flooded trail, and how many it left out', async () => {
    const flooded = await agent.gh.startSession({ intent: 'count the volumes' });
    for (let i = 0; i < 205; i++) await flooded.propose({ tool: 'no.such.tool', args: { i }, reasoning: 'flood' });
    const page = await sessionPage(kit.rt.h.audit.pool, async () => undefined, flooded.sessionId);
    assert.equal(page.timeline.length, MAX_TIMELINE);
    assert.ok(page.omitted >= 5, `${page.omitted} left out`);
    assert.equal(page.timeline.at(-1)?.kind, 'proposal');
  });

  it('halts the session from its page: the workflow is halted and the held call never runs', async () => {
    const page = olivia.page;
    await page.goto(url(`/sessions/${s.sessionId}`));
    await page.fill('#op-reason', 'agent went off script');
    await page.click('#halt');
    await page.locator('#op-outcome', { hasText: 'halted' }).waitFor();
    // The workflow's own word: its state says halted, or it has finished as halted.
    await eventually(async () => (await s.state().catch(() => undefined))?.halted || (await kit.rt.raw.workflow.getHandle(s.workflowId).describe()).status.name === 'COMPLETED' || undefined, { what: 'the workflow halted' });
    await eventually(async () => (await kit.rt.h.audit.pool.query('SELECT final_state FROM sessions WHERE session_id = $1', [s.sessionId])).rows[0]?.final_state === 'halted' || undefined, { what: 'the session recorded as halted' });
    assert.notEqual((await held).status, 'executed');
    await assertNotExecuted(kit.rt.h, s.sessionId, heldSeq);
    const halted = (await events()).find((e) => e.kind === 'halted');
    assert.deepEqual(halted?.detail, { by: 'olivia', reason: 'agent went off script' });
    await page.locator('#state', { hasText: /halted|ended/ }).waitFor();
    await olivia.shot('halted');
  });

  it('records an alert review in the review chain and the per-rule count; the overruled rule links to a backtest without it', async () => {
    const page = olivia.page;
    await page.goto(url('/alerts'));
    const card = page.locator(`article.alert[data-rule="transition.forbidden"][data-session-id="${s.sessionId}"]`);
    await card.waitFor();
    await card.locator('input.note').fill('the volume was mine to unmount');
    await card.locator('button.agent-right').click();
    await card.locator('.verdict', { hasText: 'agent was right — olivia: “the volume was mine to unmount”' }).waitFor();
    const tally = page.locator('#rules tr[data-rule="transition.forbidden"]');
    assert.equal(await tally.locator('.overruled').innerText(), '1');
    assert.equal(await tally.locator('.upheld').innerText(), '0');
    await olivia.shot('alerts');
    const rows = (await kit.rt.h.audit.pool.query('SELECT seq, session_id, rule, verdict, note, reviewer FROM alert_reviews')).rows;
    assert.deepEqual(rows, [{ seq: 1, session_id: s.sessionId, rule: 'transition.forbidden', verdict: 'agent-right', note: 'the volume was mine to unmount', reviewer: 'olivia' }]);
    assert.deepEqual(await checkReviewChain(kit.rt.h.audit.pool), { ok: true, reviews: 1 });
    await assertAuditVerifies(kit.rt.h);
    await assert.rejects(kit.rt.h.audit.pool.query("UPDATE alert_reviews SET verdict = 'rule-right'"), /append-only/);
    // The table's owner can switch the trigger off: `audit verify` still finds the edited verdict.
    const pool = kit.rt.h.audit.pool;
    const edit = async (verdict: string) => pool.query(`ALTER TABLE alert_reviews DISABLE TRIGGER alert_reviews_append_only_row; UPDATE alert_reviews SET verdict = '${verdict}'; ALTER TABLE alert_reviews ENABLE TRIGGER alert_reviews_append_only_row`);
    await edit('rule-right');
    const tampered = await verifyDatabase(pool, { keyset: trust.keyset });
    assert.deepEqual(tampered.trail.filter((f) => f.sessionId === 'alert-reviews').map((f) => `${f.rule}@${f.seq}`), ['trail.reviews@1']);
    assert.equal(tampered.ok, false);
    await edit('agent-right');
    // An approver may read the alerts but not give a verdict.
    const r = await alice.api('/api/alerts/review', { alert: await card.getAttribute('data-key'), verdict: 'rule-right', note: '' });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'role');

    await tally.locator('a.without').click();
    await page.locator('#without', { hasText: '`transition.forbidden` in shadow mode' }).waitFor();
    const changed = page.locator(`#changes tr[data-session-id="${s.sessionId}"][data-tool="volumes.unmount"]`);
    await changed.waitFor();
    assert.equal(await changed.getAttribute('data-before'), 'deny');
    assert.equal(await changed.getAttribute('data-after'), 'approve');
    await olivia.shot('backtest-without');
  });

  it('draws the paths of a shipped example, with each path\'s blocker', async () => {
    const text = readFileSync(join(__dirname, '../../policies/examples/production.yaml'), 'utf8');
    const parsed = parsePolicyText(text);
    assert.ok(parsed.success);
    // The draft compiles against the catalog sessions run with (the sample one and the harness's test tools).
    const tools = (await kit.rt.h.audit.pool.query('SELECT tools FROM sessions WHERE session_id = $1', [s.sessionId])).rows[0].tools;
    assert.ok(tools.length > SAMPLE_TOOL_INFO.length);
    const want = analyzePaths(compilePolicy(parsed.data, tools), 3).paths;
    const page = olivia.page;
    await page.goto(url('/policy'));
    await page.locator('#graph svg.paths-graph').waitFor();
    await page.fill('#draft', text);
    await page.click('#analyze');
    await page.locator('#draft-graph svg.paths-graph').waitFor();
    const drawn = await page.locator('#draft-graph g.path').evaluateAll((gs) => gs.map((g) => `${g.getAttribute('data-status')} ${g.getAttribute('data-path')}`));
    assert.ok(want.length > 5);
    assert.deepEqual(drawn, want.map((p) => `${p.status} ${p.tools.join(' → ')}`));
    const blocked = want.find((p) => p.status === 'blocked')!;
    const blocker = blocked.steps.find((x) => x.verdict === 'deny')!;
    assert.equal(await page.locator(`#draft-graph g.path[data-path="${blocked.tools.join(' → ')}"] .blocker`).textContent(), `${blocker.tool}: ${blocker.rules.join(', ')}${blocked.unlockable ? ' (unlockable)' : ''}`);
    await olivia.shot('policy-graph');
  });

  it('backtests a draft over the last day: a changed decision in the table; an invalid draft shows its issues and runs nothing', async () => {
    const page = olivia.page;
    const policy = (await kit.rt.h.audit.pool.query('SELECT policy FROM sessions WHERE session_id = $1', [s.sessionId])).rows[0].policy;
    await page.fill('#draft', 'version: 1\nbudget: { actions: -3 }\n');
    await page.click('#run-backtest');
    await page.locator('#draft-issues li', { hasText: 'budget.actions' }).waitFor();
    assert.equal(await page.locator('#changes').count(), 0);
    await page.fill('#draft', JSON.stringify({ ...policy, alwaysBlocked: [...policy.alwaysBlocked, 'volumes.list'] }, null, 2));
    await page.fill('#days', '1');
    await page.click('#run-backtest');
    const changed = page.locator(`#changes tr[data-session-id="${s.sessionId}"][data-tool="volumes.list"]`);
    await changed.waitFor();
    assert.equal(await changed.getAttribute('data-before'), 'allow');
    assert.equal(await changed.getAttribute('data-after'), 'deny');
    await olivia.shot('draft-backtest');
  });
});
