/**
 * The gateway's settings from the environment (gateway/start.ts `gatewayEnv`): the open-session cap
 * is refused at start-up when the admission workflow would refuse it on every session start.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayConfigError, gatewayEnv } from '../../gateway/start';
import { admitRequestProblem, MAX_SESSION_CAP } from '../../policies/admissions';

describe('GATEHOUSE_GATEWAY_MAX_SESSIONS', () => {
  it('takes the highest cap the admission workflow takes', () => {
    assert.equal(gatewayEnv({ GATEHOUSE_GATEWAY_MAX_SESSIONS: String(MAX_SESSION_CAP) }).limits.openSessions, MAX_SESSION_CAP);
    assert.equal(admitRequestProblem({ sessionId: 's', cap: MAX_SESSION_CAP }), undefined);
  });

  for (const raw of [String(MAX_SESSION_CAP + 1), '2.5']) {
    it(`refuses \`${raw}\` at start-up, as the admission workflow would refuse it`, () => {
      assert.throws(() => gatewayEnv({ GATEHOUSE_GATEWAY_MAX_SESSIONS: raw }), (err: unknown) => {
        assert.ok(err instanceof GatewayConfigError);
        assert.equal(err.message, `\`GATEHOUSE_GATEWAY_MAX_SESSIONS\` must be a whole number from 1 to ${MAX_SESSION_CAP}, got \`${raw}\``);
        return true;
      });
      assert.match(admitRequestProblem({ sessionId: 's', cap: Number(raw) }) ?? '', /^expected `cap` to be a whole number from 0 to 100000$/);
    });
  }
});
