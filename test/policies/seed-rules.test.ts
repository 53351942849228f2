/**
 * The two rules of the permission-graph article the engine did not have: a write after reads of
 * the same resource (`resourceWrites`, rule `resource.read-then-write`) and a write beyond what the
 * declared intent asks for (`intent.writesNeedWriteIntent`, rule `intent.effect`). Both opt in:
 * a policy without them decides, hashes and keeps its state as before.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childStart, initialSessionState, parsePolicy, type SessionState } from '../../policies';
import { Driver, MINUTE, T0, call, examplePolicy, policyOf, rules } from './fixtures';

/** Every tier autonomous, budgets out of the way: only the rule under test holds a call. */
const OPEN = {
  tiers: { read: { default: 'autonomous' }, write: { default: 'autonomous' }, destructive: { default: 'autonomous' } },
  budget: { actions: 1000, writes: 1000, critical: 1000, readOnlyAt: 1 },
  rateLimits: { perTool: { max: 1000, perSeconds: 60 } },
};
const readThenWrite = (rule: Record<string, unknown> = { afterReads: 2 }, extra: Record<string, unknown> = {}) => policyOf({ ...OPEN, resourceWrites: rule, ...extra });
const writeIntent = (extra: Record<string, unknown> = {}) => policyOf({ ...OPEN, intent: { writesNeedWriteIntent: true }, ...extra });

const TWICE_BILLING = 'the session read `billing` twice before this destructive call to it (`billing.deleteRecords`): a write after 2 reads of the same resource needs approval';

describe('resourceWrites: a write after reads of the same resource', () => {
  it('holds the write after the second read of its resource, by any tool of it, for a person', () => {
    const d = new Driver(readThenWrite());
    assert.equal(d.run(call('billing.query')).verdict, 'allow');
    assert.equal(d.peek(call('billing.deleteRecords')).verdict, 'allow', 'one read: the write runs');
    assert.equal(d.run(call('billing.summary')).verdict, 'allow', 'reads themselves never wait');
    const held = d.peek(call('billing.deleteRecords'));
    assert.equal(held.verdict, 'approve');
    assert.deepEqual(held.reasons, [{ rule: 'resource.read-then-write', message: TWICE_BILLING }]);
    assert.ok(held.verdict === 'approve' && held.approval.groups.length > 0, 'with the tool\'s approvers');
  });

  it('counts reads per resource: reads of another resource hold nothing', () => {
    const d = new Driver(readThenWrite());
    d.run(call('volumes.list'));
    d.run(call('volumes.list'));
    assert.equal(d.peek(call('services.scale')).verdict, 'allow');
    assert.equal(d.peek(call('billing.deleteRecords')).verdict, 'allow');
    assert.deepEqual(rules(d.peek(call('volumes.unmount'))), ['resource.read-then-write']);
  });

  it('counts reads that ran (executed or failed), not denied or expired ones', () => {
    const d = new Driver(readThenWrite());
    d.run(call('volumes.list'), {}, { outcome: 'denied' });
    d.run(call('volumes.list'), {}, { outcome: 'expired' });
    d.run(call('volumes.list'), {}, { outcome: 'failed' });
    assert.equal(d.peek(call('volumes.unmount')).verdict, 'allow', 'one read ran');
    d.run(call('volumes.list'));
    assert.equal(d.peek(call('volumes.unmount')).verdict, 'approve');
  });

  it('with `within`, counts only the reads inside the window, and says so', () => {
    const d = new Driver(readThenWrite({ afterReads: 2, within: { minutes: 10 } }));
    d.run(call('volumes.list'), {}, { at: T0 });
    d.run(call('volumes.list'), {}, { at: T0 + MINUTE });
    assert.deepEqual(d.peek(call('volumes.unmount'), {}, T0 + 5 * MINUTE).reasons, [
      { rule: 'resource.read-then-write', message: 'the session read `volumes` twice in the last 10 minutes before this write call to it (`volumes.unmount`): a write after 2 reads of the same resource needs approval' },
    ]);
    assert.equal(d.peek(call('volumes.unmount'), {}, T0 + 10 * MINUTE + 1).verdict, 'allow', 'the first read left the window');
  });

  it('keeps holding writes after an approved one: one approval does not open the resource', () => {
    const d = new Driver(readThenWrite());
    d.run(call('volumes.list'));
    d.run(call('volumes.list'));
    assert.equal(d.run(call('volumes.unmount')).verdict, 'approve');
    assert.equal(d.peek(call('volumes.delete')).verdict, 'approve');
  });

  it('combines as approvals do: beside the tier\'s approval, under any deny', () => {
    const tier = readThenWrite({ afterReads: 2 }, { tiers: { ...OPEN.tiers, write: { default: 'approval' } } });
    const d = new Driver(tier);
    d.run(call('volumes.list'));
    d.run(call('volumes.list'));
    assert.deepEqual(rules(d.peek(call('volumes.unmount'))), ['tier.write', 'resource.read-then-write']);

    const blocked = new Driver(readThenWrite({ afterReads: 2 }, { tools: { 'volumes.unmount': { tier: 'blocked' } } }));
    blocked.run(call('volumes.list'));
    blocked.run(call('volumes.list'));
    const denied = blocked.peek(call('volumes.unmount'));
    assert.equal(denied.verdict, 'deny', 'a deny still wins');
    assert.deepEqual(rules(denied), ['tool.tier', 'resource.read-then-write']);
  });

  it('in shadow mode records what it would do and holds nothing', () => {
    const d = new Driver(readThenWrite({ afterReads: 2, mode: 'shadow' }));
    d.run(call('volumes.list'));
    d.run(call('volumes.list'));
    const decided = d.peek(call('volumes.unmount'));
    assert.equal(decided.verdict, 'allow');
    assert.equal(decided.shadow?.verdict, 'approve');
    assert.deepEqual(decided.shadow?.reasons.map((r) => r.rule), ['resource.read-then-write']);
  });

  it('keeps its state bounded: resources of the catalog only, `afterReads` times each, none past the window', () => {
    const p = readThenWrite({ afterReads: 3, within: { minutes: 5 } });
    const d = new Driver(p);
    for (let i = 0; i < 200; i++) d.run(call(i % 2 === 0 ? 'volumes.list' : 'billing.query'), {}, { at: T0 + i * 1000 });
    assert.deepEqual(Object.keys(d.state.reads ?? {}).sort(), ['billing', 'volumes']);
    assert.deepEqual(d.state.reads?.volumes, [T0 + 194_000, T0 + 196_000, T0 + 198_000]);
    d.run(call('services.scale'), {}, { at: T0 + 199_000 + 5 * MINUTE });
    assert.deepEqual(d.state.reads, {}, 'every read left the window');
  });

  it('is off without the section: no reads kept, writes run, the hash is the one the document had', () => {
    const off = policyOf(OPEN);
    const d = new Driver(off);
    d.run(call('volumes.list'));
    d.run(call('volumes.list'));
    assert.equal(d.peek(call('volumes.unmount')).verdict, 'allow');
    assert.equal('reads' in d.state, false);
    assert.equal('declaredEffect' in d.state, false);
    assert.equal('resourceWrites' in off.document, false);
    assert.equal(policyOf({ ...OPEN, intent: { writesNeedWriteIntent: false } }).hash, off.hash, '`false` means what absent means');
    assert.notEqual(readThenWrite().hash, off.hash);
  });

  it('refuses a malformed section with a path and what was expected', () => {
    const issues = (doc: unknown) => {
      const r = parsePolicy(doc);
      assert.equal(r.success, false);
      return r.success ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
    };
    assert.match(issues({ resourceWrites: { afterReads: 0 } })[0] ?? '', /^resourceWrites\.afterReads: expected a whole number between 1 and 100/);
    assert.match(issues({ resourceWrites: { afterReads: 101 } })[0] ?? '', /^resourceWrites\.afterReads: expected a whole number between 1 and 100/);
    assert.match(issues({ resourceWrites: { afterReads: 2, within: { steps: 3 } } })[0] ?? '', /^resourceWrites\.within/);
    assert.match(issues({ resourceWrites: { afterReads: 2, reads: 2 } })[0] ?? '', /^resourceWrites/);
    assert.match(issues({ intent: { writesNeedWriteIntent: 'yes' } })[0] ?? '', /^intent\.writesNeedWriteIntent: expected true or false/);
    const defaulted = parsePolicy({ resourceWrites: {} });
    assert.ok(defaulted.success && defaulted.data.resourceWrites?.afterReads === 2, 'two reads unless told');
  });

  it('a sub-agent starts with its parent\'s reads: the parent cannot hand the write to a child', () => {
    const p = readThenWrite();
    const parent = new Driver(p);
    parent.run(call('billing.query'));
    parent.run(call('billing.query'));
    const start = childStart(p, parent.state, parent.now);
    assert.deepEqual(start.inherited?.reads, parent.state.reads);
    const child = new Driver(p, { startedAt: parent.now, inheritedTransitions: start.inherited! });
    assert.deepEqual(rules(child.peek(call('billing.deleteRecords'))), ['resource.read-then-write']);
    // The child's own reads stay its own (documented): the parent's state does not move.
    child.run(call('volumes.list'));
    child.run(call('volumes.list'));
    assert.equal(parent.peek(call('volumes.unmount')).verdict, 'allow');
    // Without `inheritTransitions` nothing is inherited, reads included.
    const apart = readThenWrite({ afterReads: 2 }, { subAgents: { inheritTransitions: false } });
    assert.equal(childStart(apart, parent.state, parent.now).inherited, undefined);
  });

  it('keeps of inherited reads only lists of finite times of the catalog\'s resources', () => {
    const p = readThenWrite();
    const state = initialSessionState(p, {
      startedAt: T0,
      inheritedTransitions: { step: 0, progress: {}, reads: { billing: ['x', Number.NaN, T0 - 5, T0 - 9], nope: [T0], volumes: 'many', ['__proto__']: [T0] } as never },
    });
    assert.deepEqual(state.reads, { billing: [T0 - 9, T0 - 5] });
  });
});

describe('intent.writesNeedWriteIntent: a write needs an intent that asks for it', () => {
  it('holds a write under a read-only intent, saying so', () => {
    const d = new Driver(writeIntent(), { intent: 'look at the volumes' });
    assert.equal(d.state.declaredEffect, 'read', 'taken once, at the start');
    assert.equal(d.run(call('volumes.list')).verdict, 'allow');
    const held = d.peek(call('volumes.unmount'));
    assert.equal(held.verdict, 'approve');
    assert.deepEqual(held.reasons, [{ rule: 'intent.effect', message: 'the session declared a read-only intent (it asks only to look): write tool `volumes.unmount` needs one that asks to change something' }]);
    assert.deepEqual(rules(d.peek(call('volumes.delete'))), ['intent.effect']);
  });

  it('lets a write intent write, and holds its destructive calls', () => {
    const d = new Driver(writeIntent(), { intent: 'restart the api service' });
    assert.equal(d.peek(call('services.restart')).verdict, 'allow');
    assert.deepEqual(d.peek(call('volumes.delete')).reasons, [
      { rule: 'intent.effect', message: 'the session declared an intent to change something, not to remove it: destructive tool `volumes.delete` needs one that asks to remove something' },
    ]);
    const destroy = new Driver(writeIntent(), { intent: 'delete the scratch volumes' });
    assert.equal(destroy.peek(call('volumes.delete')).verdict, 'allow');
    assert.equal(destroy.peek(call('volumes.unmount')).verdict, 'allow');
  });

  it('holds writes under an intent no verb of which asks for a change: leaving the verb out opens nothing', () => {
    const d = new Driver(writeIntent(), { intent: 'the billing thing for acme' });
    assert.equal(d.state.declaredEffect, null);
    assert.deepEqual(d.peek(call('services.scale')).reasons, [
      { rule: 'intent.effect', message: 'the session declared an intent that asks for no change (no verb in it says to write): write tool `services.scale` needs one that asks to change something' },
    ]);
    assert.equal(d.peek(call('volumes.list')).verdict, 'allow');
  });

  it('decides from the state, not from text: the effect is the one taken at the start', () => {
    const p = writeIntent();
    const d = new Driver(p, { intent: 'look at the volumes' });
    const widened: SessionState = { ...d.state, declaredEffect: 'write' };
    assert.equal(d.peek(call('volumes.unmount')).verdict, 'approve');
    assert.equal(new Driver(p).peek(call('volumes.unmount')).verdict, 'allow', 'no intent given (path analysis, `policy eval`): nothing to hold by');
    d.state = widened;
    assert.equal(d.peek(call('volumes.unmount')).verdict, 'allow');
  });

  it('combines as approvals do, in shadow mode holds nothing, and is off by default', () => {
    const blocked = new Driver(writeIntent({ tools: { 'volumes.unmount': { tier: 'blocked' } } }), { intent: 'look at the volumes' });
    const denied = blocked.peek(call('volumes.unmount'));
    assert.equal(denied.verdict, 'deny');
    assert.deepEqual(rules(denied), ['tool.tier', 'intent.effect']);

    const shadow = new Driver(policyOf({ ...OPEN, intent: { writesNeedWriteIntent: true, mode: 'shadow' } }), { intent: 'look at the volumes' });
    const watched = shadow.peek(call('volumes.unmount'));
    assert.equal(watched.verdict, 'allow');
    assert.deepEqual(watched.shadow?.reasons.map((r) => r.rule), ['intent.effect']);

    const off = new Driver(policyOf(OPEN), { intent: 'look at the volumes' });
    assert.equal(off.peek(call('volumes.unmount')).verdict, 'allow');
    assert.equal('declaredEffect' in off.state, false);
  });

  it('a sub-agent asks for no more than its parent declared', () => {
    const p = writeIntent();
    const parent = new Driver(p, { intent: 'look at the volumes' });
    const start = childStart(p, parent.state, parent.now);
    assert.equal(start.inherited?.declaredEffect, 'read');
    const child = new Driver(p, { startedAt: parent.now, intent: 'delete the scratch volumes', inheritedTransitions: start.inherited! });
    assert.equal(child.state.declaredEffect, 'read');
    assert.deepEqual(rules(child.peek(call('volumes.delete'))), ['intent.effect']);
    // A narrower child keeps its own.
    const writer = new Driver(p, { intent: 'delete the scratch volumes' });
    const narrower = new Driver(p, { intent: 'count the volumes', inheritedTransitions: childStart(p, writer.state, writer.now).inherited! });
    assert.equal(narrower.state.declaredEffect, 'read');
  });
});

describe('the example production policy turns both on', () => {
  it('holds the staging write a read-only session asks for, and a billing delete after two billing reads names both rules', () => {
    const p = examplePolicy();
    const looking = new Driver(p, { intent: 'count the volumes' });
    assert.deepEqual(rules(looking.peek(call('staging.writeConfig', { key: 'a', value: 'b' }))), ['intent.effect']);
    const cleaning = new Driver(p, { intent: 'clean up test billing records' });
    assert.equal(cleaning.peek(call('staging.writeConfig', { key: 'a', value: 'b' })).verdict, 'allow');
    cleaning.run(call('billing.query'));
    cleaning.run(call('billing.query'));
    assert.deepEqual(rules(cleaning.peek(call('billing.deleteRecords'), { blastRadius: 10 })), ['tier.destructive', 'budget.critical', 'resource.read-then-write']);
  });
});
