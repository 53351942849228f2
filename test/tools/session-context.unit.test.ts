/**
 * `loadSessionContext` finds a named policy among the worker's own names only: a `policyRef` such
 * as `constructor` or `__proto__` (even one a credential lists) names what every object inherits,
 * not a policy, and is refused like any name the worker did not load.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { createSessionContextActivities, SESSION_START_REFUSED } from '../../activities/session-context';
import { createCatalog } from '../../activities/tools/catalog';
import { parsePolicy } from '../../policies';
import { testTrust } from '../support/trust';

const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

function activities() {
  const parsed = parsePolicy({ name: 'the-default' });
  assert.ok(parsed.success);
  const alerts: string[] = [];
  const acts = createSessionContextActivities({
    policies: { default: parsed.data },
    defaultPolicy: 'default',
    keyset: testTrust().keyset,
    catalog: createCatalog([], { database: {} as Pool }),
    revocations: { isRevoked: async () => false },
    alerts: { raiseAlert: async (_sessionId: string, rule: string) => void alerts.push(rule) },
  });
  return { acts, alerts, policy: parsed.data };
}

describe('loadSessionContext: the policy a start names', () => {
  it('refuses a name every object inherits, even one the credential lists, as a policy the worker did not load', async () => {
    const { acts, alerts } = activities();
    const credential = await testTrust().credential('agent-1', 'alice', { policies: INHERITED });
    for (const policyRef of INHERITED) {
      await assert.rejects(acts.loadSessionContext({ sessionId: 's-1', credential, policyRef, policyDocumentGiven: false }), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, `\`${policyRef}\`: ${String(err)}`);
        assert.equal(err.type, SESSION_START_REFUSED);
        assert.equal(err.message, `session start refused: no policy \`${policyRef}\` is loaded by the worker`);
        return true;
      });
    }
    assert.deepEqual(alerts, INHERITED.map(() => 'start.policy-ref'));
  });

  it('still finds the policies the worker loaded', async () => {
    const { acts, policy } = activities();
    const credential = await testTrust().credential('agent-1', 'alice');
    const ctx = await acts.loadSessionContext({ sessionId: 's-2', credential, policyDocumentGiven: false });
    assert.equal(ctx.policyName, 'default');
    assert.equal(ctx.policyDocument, policy);
  });
});
