/**
 * Red team: rate limits multiplied by spawning (patch `rates-shared-in-tree`). Each sub-agent
 * started with the policy's whole rate limits and empty rate windows, so an agent held to 8 calls
 * of a tool per ten minutes made 8 more through every child it started. A spawn now shares the
 * limits as it shares the budget (the child takes its share, rounded down, and the parent keeps the
 * rest) and the child counts its parent's calls: the whole tree, across continue-as-new, stays
 * within the policy's 8. The real session workflow on the Temporal dev server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '@temporalio/worker';
import type { SessionHandle } from '../../client';
import { testPolicy, type Harness, createHarness } from '../workflows/harness';

let h: Harness;
let w: Worker;
let run: Promise<void>;
before(async () => {
  h = await createHarness('redteam_tree_rates');
  const policy = testPolicy({ rateLimits: { perTool: { max: 8, perSeconds: 600 } }, subAgents: { budgetShare: 0.5, inheritTransitions: true } });
  // Short runs: the parent continues as new between its calls, and its share must go with it.
  w = await h.worker({ policy, sessionHistoryLimit: 40, workerOptions: { shutdownGraceTime: '10s' } });
  run = w.run();
});
after(async () => {
  w?.shutdown();
  await run;
  await h?.close();
});

const INTENT = 'look over the staging volumes';
const LIST = { tool: 'volumes.list', args: {}, reasoning: 'what is there' };

/** Lists until the session is refused; the number of calls that ran and the first refusal. */
async function listUntilRefused(s: SessionHandle, most: number): Promise<{ ran: number; refusal?: { rule: string; message: string } }> {
  let ran = 0;
  for (let i = 0; i < most; i++) {
    const r = await s.propose(LIST);
    if (r.status !== 'executed') return { ran, refusal: r.decision.reasons[0] };
    ran++;
  }
  return { ran };
}

describe('rate limits across a session tree', () => {
  it('a parent and three children make at most the policy\'s 8 calls of a tool in its window', async () => {
    const parent = await h.gh.startSession({ agentId: 'rate-spawner', owner: 'eng-007', intent: INTENT });
    assert.equal((await listUntilRefused(parent, 2)).ran, 2);
    const children: SessionHandle[] = [];
    for (let n = 1; n <= 3; n++) children.push(await parent.spawnChild({ agentId: `lister-${n}`, intent: INTENT }));
    let total = 2;
    for (const s of [...children, parent]) {
      const { ran, refusal } = await listUntilRefused(s, 10);
      total += ran;
      assert.equal(refusal?.rule, 'rate.tool', `${s.sessionId}: ${JSON.stringify(refusal)}`);
      assert.match(refusal!.message, /its share of the session tree's 8\)$/);
    }
    // The first child took half of 8 and counts the parent's 2; the parent kept 4, then 2, then 1.
    assert.equal(total, 4);
    // Its share went with it across continue-as-new.
    assert.notEqual((await parent.workflow.describe()).runId, (await parent.state()).firstRunId);
  });
});
