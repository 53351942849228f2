/** The worker's sizing knobs from the environment: set, unset, and refused with a clear error. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capacityFromEnv, sessionHistoryLimitFromEnv } from '../../worker/capacity';
import { WorkerConfigError } from '../../worker/create-worker';
import { ROOMY_HISTORY_LIMIT, boundForCache } from '../../worker/session-bound';

describe('worker capacity from the environment', () => {
  it('maps the two knobs onto the SDK options, and sets nothing when they are unset or empty', () => {
    assert.deepEqual(capacityFromEnv({ GATEHOUSE_MAX_CACHED_SESSIONS: '1500', GATEHOUSE_WORKFLOW_TASK_SLOTS: '80' }), { maxCachedWorkflows: 1500, maxConcurrentWorkflowTaskExecutions: 80 });
    assert.deepEqual(capacityFromEnv({}), {});
    assert.deepEqual(capacityFromEnv({ GATEHOUSE_MAX_CACHED_SESSIONS: '' }), {});
  });

  for (const bad of ['0', '-5', '2.5', 'many', '1e9']) {
    it(`refuses GATEHOUSE_MAX_CACHED_SESSIONS=${bad} naming the variable and the value`, () => {
      assert.throws(() => capacityFromEnv({ GATEHOUSE_MAX_CACHED_SESSIONS: bad }), (err: unknown) => {
        assert.ok(err instanceof WorkerConfigError);
        assert.equal(err.message, `\`GATEHOUSE_MAX_CACHED_SESSIONS\` must be a whole number from 1 to 100000, got \`${bad}\``);
        return true;
      });
    });
  }

  it('reads the session history bound, unset or empty as none, and refuses one out of range naming it', () => {
    assert.equal(sessionHistoryLimitFromEnv({ GATEHOUSE_SESSION_HISTORY_LIMIT: '400' }), 400);
    assert.equal(sessionHistoryLimitFromEnv({ GATEHOUSE_SESSION_HISTORY_LIMIT: '20' }), 20);
    assert.equal(sessionHistoryLimitFromEnv({ GATEHOUSE_SESSION_HISTORY_LIMIT: '50000' }), 50_000);
    assert.equal(sessionHistoryLimitFromEnv({}), undefined);
    assert.equal(sessionHistoryLimitFromEnv({ GATEHOUSE_SESSION_HISTORY_LIMIT: '' }), undefined);
    for (const bad of ['19', '50001', '0', '120.5', 'short']) {
      assert.throws(() => sessionHistoryLimitFromEnv({ GATEHOUSE_SESSION_HISTORY_LIMIT: bad }), (err: unknown) => {
        assert.ok(err instanceof WorkerConfigError);
        assert.equal(err.message, `\`GATEHOUSE_SESSION_HISTORY_LIMIT\` must be a whole number from 20 to 50000, got \`${bad}\``);
        return true;
      });
    }
  });

  it('unset, the bound follows the cache: long under half full, the short default from half full on, and a cache of none is full', () => {
    assert.equal(boundForCache({ cached: 0, capacity: 1000 }), ROOMY_HISTORY_LIMIT);
    assert.equal(boundForCache({ cached: 499, capacity: 1000 }), ROOMY_HISTORY_LIMIT);
    assert.equal(boundForCache({ cached: 500, capacity: 1000 }), undefined);
    assert.equal(boundForCache({ cached: 1000, capacity: 1000 }), undefined);
    assert.equal(boundForCache({ cached: 0, capacity: 1 }), ROOMY_HISTORY_LIMIT);
    assert.equal(boundForCache({ cached: 1, capacity: 1 }), undefined);
    assert.equal(boundForCache({ cached: 0, capacity: 0 }), undefined);
  });
});
