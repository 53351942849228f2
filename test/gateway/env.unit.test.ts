/**
 * The gateway's settings from the environment (gateway/start.ts `gatewayEnv`): the open-session cap
 * is refused at start-up when the admission workflow would refuse it on every session start; the
 * bound on requests an agent holds open (gateway/in-flight.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayConfigError, gatewayEnv } from '../../gateway/start';
import { admitRequestProblem, MAX_SESSION_CAP } from '../../policies/admissions';
import { InFlight } from '../../gateway/in-flight';
import { Problem } from '../../gateway/problems';

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

describe('GATEHOUSE_GATEWAY_IN_FLIGHT', () => {
  it('sets the requests an agent may hold open; unset, the default holds', () => {
    assert.equal(gatewayEnv({ GATEHOUSE_GATEWAY_IN_FLIGHT: '32' }).limits.requestsInFlight, 32);
    assert.equal(gatewayEnv({}).limits.requestsInFlight, undefined);
  });

  for (const [raw, must] of [['0', 'a number of at least 1'], ['many', 'a number of at least 1'], ['2.5', 'a whole number']]) {
    it(`refuses \`${raw}\` at start-up`, () => {
      assert.throws(() => gatewayEnv({ GATEHOUSE_GATEWAY_IN_FLIGHT: raw }), (err: unknown) => {
        assert.ok(err instanceof GatewayConfigError);
        assert.equal(err.message, `\`GATEHOUSE_GATEWAY_IN_FLIGHT\` must be ${must}, got \`${raw}\``);
        return true;
      });
    });
  }
});

describe('InFlight', () => {
  it('counts an agent\'s open requests up to its bound, each leaving once; agents apart', () => {
    const open = new InFlight(2);
    const a = open.enter('a');
    const leaveB = open.enter('a');
    assert.throws(() => open.enter('a'), (err: unknown) => err instanceof Problem && err.code === 'too-many-in-flight' && err.status === 429);
    open.enter('b');
    a();
    a(); // a second leave of the same request changes nothing
    assert.equal(open.open('a'), 1);
    const c = open.enter('a');
    assert.throws(() => open.enter('a'));
    leaveB();
    c();
    assert.equal(open.open('a'), 0);
  });
});
