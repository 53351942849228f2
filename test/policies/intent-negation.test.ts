/**
 * policies/intent-negation.ts and its rule in `actionSignals` (issue 27, session 13): a verb after
 * `do not`/`don't`/`dont` is ruled out — not part of the intent's effect, and a call that does it is
 * capped; a ruled-out change in general rules out every write.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { negatedVerbs, ruledOut, withoutNegated } from '../../policies/intent-negation';
import { actionSignals, CAPS, intentEffect, intentScope } from '../../policies/intent';

const sig = (intent: string, tool: string) => actionSignals(intentScope(intent), tool, {});

describe('what an intent rules out', () => {
  it('the verb after do not, don\'t, dont; never describes and rules nothing out', () => {
    assert.deepEqual(negatedVerbs('preview june payroll, do not submit'), ['submit']);
    assert.deepEqual(negatedVerbs("look, don't fix; DONT  wipe it, don\u2019t post"), ['fix', 'wipe', 'post']);
    assert.deepEqual(negatedVerbs('they never get our mails'), []);
    assert.equal(withoutNegated('suspend maria, do not delete anything'), 'suspend maria,   anything');
  });

  it('a call does what is ruled out by its tool name, or by any change when change is ruled out', () => {
    assert.equal(ruledOut(['submit'], ['payroll', 'run', 'submit'], 'write'), 'submit');
    assert.equal(ruledOut(['submit'], ['payroll', 'run', 'get'], 'read'), null);
    assert.equal(ruledOut(['change'], ['offsets', 'reset'], 'write'), 'change');
    assert.equal(ruledOut(['touch'], ['users', 'delete'], 'destructive'), 'touch');
    assert.equal(ruledOut(['change'], ['tfc', 'run', 'plan'], 'read'), null);
    assert.equal(ruledOut(['renew'], ['cancel', 'subscription'], 'destructive'), null, '"dont renew them" asks for the cancel');
    assert.equal(ruledOut([], ['x'], 'write'), null);
  });

  it('in the intent\'s effect and in actionSignals', () => {
    assert.equal(intentEffect('suspend maria for the investigation, do not delete anything'), 'destructive');
    assert.equal(intentScope('suspend maria for the investigation, do not delete anything').keeps, true, 'only the suspend is asked');
    assert.deepEqual(sig('preview june payroll, do not submit', 'payroll_run_submit'), {
      cap: CAPS.ruledOut, floor: 0, effect: 'write', signals: [{ code: 'effect', message: 'a write call under an intent that implies read' }, { code: 'effect', message: 'the intent says not to submit' }],
    });
    assert.deepEqual(sig('why is the consumer lagging? dont change anything yet', 'POST /v1/consumer-groups/{group}/offsets:reset').signals.map((s) => s.message), ['a write call under an intent that implies read', 'the intent says not to change']);
    assert.equal(sig('leave a private note on the ticket, dont notify the customer', 'helpdesk.comments.create').cap, 1);
    assert.equal(sig('restart the api, do not scale it', 'k8s.deployments.scale').cap, CAPS.ruledOut);
  });
});
