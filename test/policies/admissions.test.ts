/**
 * The open-session cap's pure decisions (policies/admissions.ts) and the agent and session ids of a
 * session tree (policies/agent-id.ts), pinned exactly: every bound at its edge, every refusal word for word.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { admit, admitRequestProblem, atCap, MAX_SESSION_CAP, release, rootAgentOf } from '../../policies/admissions';
import { AGENT_ID_PATTERN, hasSubSessionForm, subAgentId, subSessionId } from '../../policies/agent-id';

const SESSION_ID = 'expected `sessionId` to be 1 to 200 characters';
const CAP = 'expected `cap` to be a whole number from 0 to 100000';

describe('admitRequestProblem', () => {
  it('refuses what is not an object', () => {
    for (const v of [null, undefined, 'req', 5, true]) assert.equal(admitRequestProblem(v), 'expected an admission request', String(v));
  });

  it('takes a session id of 1 to 200 characters, nothing else', () => {
    assert.equal(admitRequestProblem({ sessionId: 'a', cap: 1 }), undefined);
    assert.equal(admitRequestProblem({ sessionId: 'a'.repeat(200), cap: 1 }), undefined);
    assert.equal(admitRequestProblem({ sessionId: 'a'.repeat(201), cap: 1 }), SESSION_ID);
    assert.equal(admitRequestProblem({ sessionId: '', cap: 1 }), SESSION_ID);
    assert.equal(admitRequestProblem({ sessionId: 7, cap: 1 }), SESSION_ID);
    assert.equal(admitRequestProblem({ cap: 1 }), SESSION_ID);
    assert.equal(admitRequestProblem([]), SESSION_ID);
  });

  it('takes a whole cap from 0 to MAX_SESSION_CAP, nothing else', () => {
    assert.equal(MAX_SESSION_CAP, 100_000);
    assert.equal(admitRequestProblem({ sessionId: 's', cap: 0 }), undefined);
    assert.equal(admitRequestProblem({ sessionId: 's', cap: 100_000 }), undefined);
    for (const cap of [-1, 100_001, 1.5, '3', undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(admitRequestProblem({ sessionId: 's', cap }), CAP, String(cap));
    }
  });
});

describe('atCap and admit', () => {
  const three = { s0: 1000, s1: 1001, s2: 1002 };

  it('refuses a new id once cap slots are held, never a held id', () => {
    assert.equal(atCap(three, { sessionId: 'new', cap: 3 }), true);
    assert.equal(atCap(three, { sessionId: 'new', cap: 2 }), true);
    assert.equal(atCap(three, { sessionId: 'new', cap: 4 }), false);
    assert.equal(atCap(three, { sessionId: 's1', cap: 3 }), false);
    assert.equal(atCap(three, { sessionId: 's1', cap: 0 }), false);
    assert.equal(atCap({}, { sessionId: 'new', cap: 0 }), true);
    assert.equal(atCap({}, { sessionId: 'new', cap: 1 }), false);
  });

  it('admits a new id under the cap at now, leaving the old state as it was', () => {
    const before = { s0: 1000 };
    const r = admit(before, { sessionId: 's1', cap: 2 }, 5000);
    assert.deepEqual(r, { state: { s0: 1000, s1: 5000 }, result: { admitted: true, fresh: true } });
    assert.deepEqual(before, { s0: 1000 });
  });

  it('answers a held id as admitted, not fresh, with the state unchanged (even past the cap)', () => {
    const r = admit(three, { sessionId: 's2', cap: 1 }, 9000);
    assert.equal(r.state, three);
    assert.deepEqual(r.result, { admitted: true, fresh: false });
  });

  it('at the cap answers every held slot and changes nothing', () => {
    const r = admit(three, { sessionId: 'new', cap: 3 }, 9000);
    assert.equal(r.state, three);
    assert.deepEqual(r.result, { admitted: false, held: [{ sessionId: 's0', at: 1000 }, { sessionId: 's1', at: 1001 }, { sessionId: 's2', at: 1002 }] });
    assert.deepEqual(admit({}, { sessionId: 'new', cap: 0 }, 9000).result, { admitted: false, held: [] });
  });
});

describe('release', () => {
  it('frees the named held slots and keeps the others', () => {
    const state = { s0: 1, s1: 2, s2: 3 };
    assert.deepEqual(release(state, ['s1', 'unknown', 's2']), { s0: 1 });
    assert.deepEqual(state, { s0: 1, s1: 2, s2: 3 });
  });

  it('returns the same state when none of the ids holds a slot', () => {
    const state = { s0: 1 };
    assert.equal(release(state, ['x', 'y']), state);
    assert.equal(release(state, []), state);
  });
});

describe('agent ids', () => {
  it('a credential agent id is 1 to 120 of letters, digits and ._@:- (never /)', () => {
    for (const ok of ['a', 'a'.repeat(120), 'billing-bot', 'A_b.c@d:e-9']) assert.equal(AGENT_ID_PATTERN.test(ok), true, ok);
    for (const bad of ['', 'a'.repeat(121), 'a/b', ' a', 'a ', 'a b', 'a\nb', 'é']) assert.equal(AGENT_ID_PATTERN.test(bad), false, JSON.stringify(bad));
  });

  it('the root is everything before the first /', () => {
    assert.equal(rootAgentOf('billing-bot'), 'billing-bot');
    assert.equal(rootAgentOf('billing-bot/cleanup'), 'billing-bot');
    assert.equal(rootAgentOf('a/b/c'), 'a');
    assert.equal(rootAgentOf('/x'), '');
  });

  it('a sub-agent is <root>/<name>; a request of that form keeps its name', () => {
    assert.deepEqual(subAgentId('root', 'worker'), { ok: true, agentId: 'root/worker' });
    assert.deepEqual(subAgentId('root', 'root/worker'), { ok: true, agentId: 'root/worker' });
    assert.deepEqual(subAgentId('root', 'n'.repeat(80)), { ok: true, agentId: `root/${'n'.repeat(80)}` });
    assert.deepEqual(subAgentId('root', 'A_b.c@d:e-9'), { ok: true, agentId: 'root/A_b.c@d:e-9' });
  });

  it('refuses another root, a nested name, an empty or long name, word for word', () => {
    const refusal = (requested: string) => ({ ok: false, message: `a sub-agent is named \`root/<name>\` with a name of 1 to 80 letters, digits or \`._@:-\`, not \`${requested}\`` });
    for (const bad of ['other/worker', 'root/a/b', 'root/', '', 'n'.repeat(81), ' worker', 'worker ', 'a b']) {
      assert.deepEqual(subAgentId('root', bad), refusal(bad), JSON.stringify(bad));
    }
  });
});

describe('sub-session ids', () => {
  it('the n-th sub-session of p is p.n', () => {
    assert.equal(subSessionId('sess-1', 1), 'sess-1.1');
    assert.equal(subSessionId('sess-1.2', 10), 'sess-1.2.10');
  });

  it('has the sub-session form exactly when it ends in . and digits', () => {
    for (const yes of ['s.1', 's.12', '.1', 's.2.10']) assert.equal(hasSubSessionForm(yes), true, yes);
    for (const no of ['s', 's1', 's.', 's.1x', 's.x', 's-1', 's.1.']) assert.equal(hasSubSessionForm(no), false, no);
  });
});
