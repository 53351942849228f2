/**
 * `AuditWriter.hold()`: the seqs an allowed call checked by `runTool` first may use. Events made
 * during the hold are numbered after the call's seqs when it ran, in their place when it did not,
 * and reach the audit activity only after the hold ends: no gap, no seq used twice.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { AuditEventInput } from '../../audit/types';
import { createHarness, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await createHarness('audit-hold');
});
after(async () => {
  await h?.close();
});

async function runHold(used: boolean, lazy: boolean): Promise<{ last: number; batches: { seq: number; kind: string }[][] }> {
  const taskQueue = `${h.taskQueue}-hold`;
  const batches: { seq: number; kind: string }[][] = [];
  const worker = await Worker.create({
    connection: h.connection,
    namespace: h.namespace,
    taskQueue,
    workflowsPath: require.resolve('./fixtures/audit-hold-workflow'),
    activities: {
      async appendAudit(events: readonly AuditEventInput[]) {
        batches.push(events.map((e) => ({ seq: e.seq, kind: e.kind })));
      },
    },
  });
  const last = await worker.runUntil(h.gh.client.workflow.execute('auditHold', { taskQueue, workflowId: `hold-${randomUUID()}`, args: [used, lazy] }));
  return { last: last as number, batches };
}

// Both holds: the queued path's, and the lean path's (`lazy`), which must number and order alike.
for (const lazy of [false, true]) {
  describe(`audit seqs held for one call${lazy ? ' (lazy hold)' : ''}`, () => {
    it('a call that ran keeps its seqs: the alert made meanwhile comes after them', async () => {
      const { last, batches } = await runHold(true, lazy);
      assert.equal(last, 6);
      assert.deepEqual(batches, [
        [{ seq: 1, kind: 'session-started' }],
        [{ seq: 5, kind: 'alert' }],
        [{ seq: 2, kind: 'proposed' }, { seq: 3, kind: 'decided' }, { seq: 4, kind: 'executed' }],
        [{ seq: 6, kind: 'paused' }],
      ]);
    });

    it('a call refused by the check gives its seqs back: the alert takes the first, no gap', async () => {
      const { last, batches } = await runHold(false, lazy);
      assert.equal(last, 3);
      assert.deepEqual(batches, [
        [{ seq: 1, kind: 'session-started' }],
        [{ seq: 2, kind: 'alert' }],
        [{ seq: 3, kind: 'paused' }],
      ]);
    });
  });
}
