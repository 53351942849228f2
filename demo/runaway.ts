/**
 * runaway: an agent stuck in a loop. Its writes eat the session's write budget: at 80% the
 * session turns read-only and further writes are denied; at 100% it closes and is flagged for
 * review. A second, token-hungry agent burns through the cost cap and is stopped there.
 */
import type { DemoContext, Scenario, ScenarioOutcome } from './types';
import { DEMO_POLICY } from './policy';
import { describeDecision, proposeDecided, type SessionHandle } from './propose';
import type { ProposeResult } from '../workflows/contract';

/** Upper bound of the loops: a runaway agent, not an infinite one. */
const MAX_LOOPS = 40;

export const runaway: Scenario = {
  name: 'runaway',
  summary: 'a write loop goes read-only at 80% of its budget and closes at 100%; a token-hungry agent hits the cost cap',
  async run(ctx: DemoContext): Promise<ScenarioOutcome> {
    const { gh, story } = ctx;
    story.title('runaway: an agent that will not stop writing');

    const looper = ctx.track(await gh.startSession({
      sessionId: `runaway-${ctx.runId}`,
      agentId: 'tuning-bot',
      owner: 'eng-031',
      intent: 'tune the cache size in the staging configuration until the volumes look right',
      policyRef: DEMO_POLICY,
    }));
    story.say(`session ${looper.sessionId} started for tuning-bot; budget left: ${JSON.stringify((await looper.state()).budgetLeft)}`);
    story.say('its loop: write a new cache size in staging, list the volumes to see the effect, repeat; it never decides it is done');

    const modes: { afterProposal: number; mode: string }[] = [];
    let mode = (await looper.state()).mode as string;
    let executedWrites = 0;
    let executedReads = 0;
    let firstDenial: ProposeResult | undefined;
    let loops = 0;
    const watch = async (r: ProposeResult) => {
      const s = await looper.state();
      if (s.mode !== mode) {
        story.gatehouse(`session mode ${mode} -> ${s.mode} (writes left ${s.budgetLeft.writes}, actions left ${s.budgetLeft.actions})`);
        modes.push({ afterProposal: r.sequence, mode: s.mode });
        mode = s.mode;
      }
    };
    for (; loops < MAX_LOOPS && mode !== 'closed'; loops++) {
      const size = 256 * (loops + 1);
      const w = await proposeOrStop(ctx, looper, {
        tool: 'staging.writeConfig',
        args: { key: 'cache.size-mb', value: String(size) },
        reasoning: `tune the cache size in the staging configuration: try ${size} MB`,
      });
      if (!w) break;
      if (w.status === 'executed') executedWrites += 1;
      else firstDenial ??= w;
      story.agent(`loop ${loops + 1}: staging.writeConfig cache.size-mb=${size} -> ${w.status}`);
      if (w.status !== 'executed') story.gatehouse(describeDecision(w));
      await watch(w);
      if (mode === 'closed') break;
      const r = await proposeOrStop(ctx, looper, {
        tool: 'volumes.list',
        args: {},
        reasoning: 'check whether the volumes look right after the cache size change',
      });
      if (!r) break;
      if (r.status === 'executed') executedReads += 1;
      story.agent(`loop ${loops + 1}: volumes.list -> ${r.status}`);
      if (r.status !== 'executed') story.gatehouse(describeDecision(r));
      await watch(r);
    }
    const loopEnd = await endQuietly(looper);
    story.say(`the loop stopped after ${loops} rounds: ${executedWrites} writes and ${executedReads} reads ran; final state ${loopEnd?.finalState ?? 'closed'}`);
    const flagged = await flaggedForReview(ctx, looper.sessionId);
    story.fact(`flagged for review: ${flagged}`);

    // A token-hungry agent: each read costs a large slice of the session's cost cap.
    const hungry = ctx.track(await gh.startSession({
      sessionId: `runaway-tokens-${ctx.runId}`,
      agentId: 'summary-bot',
      owner: 'eng-031',
      intent: 'summarise the billing records of customers',
      policyRef: DEMO_POLICY,
    }));
    const tokensLeft = (await hungry.state()).budgetLeft.tokens;
    // 30% of the cap a call: three calls fit, the fourth would pass the cap.
    const perCall = Math.max(1, Math.floor(tokensLeft * 0.3));
    story.say(`session ${hungry.sessionId} started for summary-bot; token budget ${tokensLeft}, ${perCall} tokens a call`);
    let hungryMode = 'normal';
    const watchHungry = async () => {
      const s = await hungry.state();
      if (s.mode !== hungryMode) {
        story.gatehouse(`session mode ${hungryMode} -> ${s.mode} (tokens left ${s.budgetLeft.tokens.toLocaleString('en-US')})`);
        hungryMode = s.mode;
      }
    };
    let hungryStop: ProposeResult | undefined;
    let hungryExecuted = 0;
    for (let i = 0; i < 10; i++) {
      const r = await proposeOrStop(ctx, hungry, {
        tool: 'billing.query',
        args: { testOnly: false, limit: 50 },
        reasoning: 'summarise the billing records of customers, with a very long chain of thought',
        tokenCost: perCall,
      });
      if (!r) break;
      story.agent(`billing.query #${i + 1} (${perCall.toLocaleString('en-US')} tokens) -> ${r.status}`);
      if (r.status !== 'executed') story.gatehouse(describeDecision(r));
      else await watchHungry();
      if (r.status === 'executed') hungryExecuted += 1;
      else {
        hungryStop = r;
        break;
      }
    }
    const hungryState = await hungry.state().catch(() => undefined);
    const hungryEnd = await endQuietly(hungry);
    story.say(`the token-hungry agent stopped after ${hungryExecuted} calls: ${hungryState?.halted ? 'halted' : hungryState?.mode ?? 'closed'}; final state ${hungryEnd?.finalState ?? 'halted'}`);

    return {
      sessionIds: [looper.sessionId, hungry.sessionId],
      facts: {
        loops,
        executedWrites,
        executedReads,
        modes,
        firstDenialRules: firstDenial?.decision.reasons.map((r) => r.rule) ?? [],
        loopFinalState: loopEnd?.finalState,
        flaggedForReview: flagged,
        hungryExecuted,
        hungryStopStatus: hungryStop?.status,
        hungryStopRules: hungryStop?.decision.reasons.map((r) => r.rule) ?? [],
        hungryHalted: hungryState?.halted ?? true,
        hungryFinalState: hungryEnd?.finalState,
      },
    };
  },
};

/** Proposes; a session that no longer accepts proposals (closed by the client's typed errors) yields undefined. */
async function proposeOrStop(ctx: DemoContext, session: SessionHandle, p: Parameters<SessionHandle['propose']>[0]): Promise<ProposeResult | undefined> {
  try {
    return await proposeDecided(ctx, session, p);
  } catch (err) {
    if (isClosed(err)) return undefined;
    throw err;
  }
}

async function endQuietly(session: SessionHandle) {
  try {
    return await session.end({ reason: 'runaway demo finished' });
  } catch (err) {
    if (isClosed(err)) return undefined;
    throw err;
  }
}

function isClosed(err: unknown): boolean {
  const type = (err as { type?: string } | null)?.type;
  return type === 'SessionClosedError' || type === 'SessionNotFoundError';
}

async function flaggedForReview(ctx: DemoContext, sessionId: string): Promise<boolean> {
  const r = await ctx.auditPool.query<{ flagged_for_review: boolean }>('SELECT flagged_for_review FROM sessions WHERE session_id = $1', [sessionId]);
  return r.rows[0]?.flagged_for_review === true;
}
