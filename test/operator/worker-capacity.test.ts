/** The worker's sizing knobs from the environment: set, unset, and refused with a clear error. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capacityFromEnv } from '../../worker/capacity';
import { WorkerConfigError } from '../../worker/create-worker';

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
});
