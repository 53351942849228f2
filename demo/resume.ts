/**
 * resume: durability. A 50-step agent runs on a worker the demo starts itself; while step 35 is
 * in flight the demo kills that worker with SIGKILL (a crash, not a shutdown) and starts another.
 * The session picks up where it was: 50 executions in the tool ledger, none lost, none twice.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gatehouse } from '../client';
import type { DemoContext, Scenario, ScenarioOutcome } from './types';
import { connectDemo, startDemoWorker } from './context';
import { describeDecision } from './propose';
import { ledgerExecutions } from './production';
import { DEMO_BATCH_POLICY, resumePolicy } from './policy';
import type { WorkerProcess } from '../worker/devstack/worker-process';
import { waitFor } from './wait';

const STEPS = 50;
const CRASH_AT = 35;

export const resume: Scenario = {
  name: 'resume',
  summary: 'a 50-step session survives SIGKILL of its worker at step 35: 50 executions, no duplicate',
  async run(ctx: DemoContext): Promise<ScenarioOutcome> {
    const { story, config } = ctx;
    story.title(`resume: ${STEPS} steps, a crash at step ${CRASH_AT}`);
    // A queue of its own: the stack's worker must not pick these tasks up, or the crash would be moot.
    const taskQueue = `${config.taskQueue}-demo-resume-${ctx.runId}`;
    const workers: WorkerProcess[] = [];
    let gh: Gatehouse | undefined;
    // The demo's workers load the batch policy by name, as a file in a folder of their own.
    const policiesDir = await mkdtemp(join(tmpdir(), 'gatehouse-demo-policies-'));
    try {
      await writeFile(join(policiesDir, `${DEMO_BATCH_POLICY}.json`), JSON.stringify(await resumePolicy()));
      // Its own process, trusting the stack's keyset and loading the batch policy by name.
      const startWorker = () => startDemoWorker(ctx, taskQueue, { policiesDir });
      const first = await startWorker();
      workers.push(first);
      story.say(`worker pid ${first.pid} polls task queue ${taskQueue}`);
      gh = await connectDemo(config, taskQueue);
      const session = ctx.track(await gh.startSession({
        sessionId: `resume-${ctx.runId}`,
        agentId: 'batch-bot',
        owner: 'eng-054',
        intent: 'write configuration values in staging',
        policyRef: DEMO_BATCH_POLICY,
      }));
      story.say(`session ${session.sessionId} started for batch-bot, ${STEPS} steps to go`);

      let executed = 0;
      let crashed: { pid: number; replacedBy: number } | undefined;
      for (let step = 1; step <= STEPS; step++) {
        const proposal = {
          tool: 'staging.writeConfig',
          args: { key: `batch.step-${String(step).padStart(2, '0')}`, value: `done ${step}` },
          reasoning: `write configuration value ${step} of ${STEPS} in staging`,
        };
        const pending = session.propose(proposal);
        if (step === CRASH_AT) {
          pending.catch(() => undefined);
          // In flight: the write-ahead record of this step is in the audit trail, the call is under way.
          await waitFor(`step ${step} to be recorded`, () => proposalRecorded(ctx, session.sessionId, step), 60_000, 20);
          const victim = workers[workers.length - 1]!;
          await victim.kill();
          story.human(`kill -9 ${victim.pid} while step ${step} is in flight`);
          const next = await startWorker();
          workers.push(next);
          crashed = { pid: victim.pid, replacedBy: next.pid };
          story.say(`a new worker (pid ${next.pid}) takes over the task queue`);
        }
        const r = await pending;
        if (r.status === 'executed') executed += 1;
        if (step === 1 || step === CRASH_AT || step === STEPS || r.status !== 'executed') {
          story.agent(`step ${step}: staging.writeConfig ${proposal.args.key}`);
          story.gatehouse(describeDecision(r));
        }
      }
      const summary = await session.end({ reason: 'batch finished' });
      const ledger = await ledgerExecutions(ctx.productionPool, session.sessionId);
      const audited = await auditedExecutions(ctx, session.sessionId);
      story.fact(`executed (agent's view): ${executed} of ${STEPS}`);
      story.fact(`tool ledger: ${ledger.rows} rows, ${ledger.distinctProposals} distinct steps; audit trail: ${audited.executed} executed events for ${audited.distinct} steps`);
      story.say(ledger.rows === STEPS && ledger.distinctProposals === STEPS ? 'nothing lost, nothing run twice' : 'the counts do not add up: see the trace');
      return {
        sessionIds: [session.sessionId],
        facts: {
          steps: STEPS,
          crashAt: CRASH_AT,
          crashed,
          executed,
          ledgerRows: ledger.rows,
          ledgerDistinct: ledger.distinctProposals,
          ledgerExecuted: ledger.executed,
          auditExecuted: audited.executed,
          auditDistinct: audited.distinct,
          finalState: summary.finalState,
          counters: summary.counters,
        },
      };
    } finally {
      await gh?.close();
      for (const w of workers.reverse()) await w.stop();
      await rm(policiesDir, { recursive: true, force: true });
    }
  },
};

async function proposalRecorded(ctx: DemoContext, sessionId: string, proposalSeq: number): Promise<true | undefined> {
  const r = await ctx.auditPool.query("SELECT 1 FROM events WHERE session_id = $1 AND proposal_seq = $2 AND kind = 'proposed'", [sessionId, proposalSeq]);
  return (r.rowCount ?? 0) > 0 ? true : undefined;
}

async function auditedExecutions(ctx: DemoContext, sessionId: string): Promise<{ executed: number; distinct: number }> {
  const r = await ctx.auditPool.query<{ executed: string; distinct_steps: string }>(
    "SELECT count(*)::text AS executed, count(DISTINCT proposal_seq)::text AS distinct_steps FROM events WHERE session_id = $1 AND kind = 'executed'",
    [sessionId],
  );
  return { executed: Number(r.rows[0]?.executed ?? 0), distinct: Number(r.rows[0]?.distinct_steps ?? 0) };
}
