/**
 * sub-agent: a parent session spawns a child with its own declared intent. The child takes at
 * most a quarter of the parent's remaining budget (deducted from the parent) and inherits the
 * forbidden transitions; when it tries to write past its share, it is denied.
 */
import type { DemoContext, Scenario, ScenarioOutcome } from './types';
import { DEMO_POLICY } from './policy';
import { describeDecision, proposeDecided } from './propose';
import type { ProposeResult } from '../workflows/contract';

const MAX_CHILD_WRITES = 10;

export const subAgent: Scenario = {
  name: 'sub-agent',
  summary: 'a child agent gets a quarter of its parent\'s budget; its attempt to exceed it is denied',
  async run(ctx: DemoContext): Promise<ScenarioOutcome> {
    const { gh, story } = ctx;
    story.title('sub-agent: delegation without a bigger blast radius');

    const parent = ctx.track(await gh.startSession({
      sessionId: `sub-agent-${ctx.runId}`,
      agentId: 'release-bot',
      owner: 'eng-019',
      intent: 'prepare the staging configuration for the release',
      policyRef: DEMO_POLICY,
    }));
    const parentBefore = (await parent.state()).budgetLeft;
    story.say(`parent session ${parent.sessionId} started for release-bot; budget left ${JSON.stringify(parentBefore)}`);

    story.agent('spawns a sub-agent: "write the feature flags of the release in staging"');
    const child = ctx.track(await parent.spawnChild({ agentId: 'flags-bot', intent: 'write the feature flags of the release configuration in staging' }));
    const childState = await child.state();
    const parentAfter = (await parent.state()).budgetLeft;
    story.gatehouse(`child ${child.sessionId} started with budget ${JSON.stringify(childState.budgetLeft)}`);
    story.say(`parent budget left after the share: ${JSON.stringify(parentAfter)}`);

    let childWrites = 0;
    let denied: ProposeResult | undefined;
    for (let i = 1; i <= MAX_CHILD_WRITES && !denied; i++) {
      let r: ProposeResult;
      try {
        r = await proposeDecided(ctx, child, {
          tool: 'staging.writeConfig',
          args: { key: `release.flag-${i}`, value: 'on' },
          reasoning: `write feature flag ${i} of the release configuration in staging`,
        });
      } catch (err) {
        if ((err as { type?: string } | null)?.type === 'SessionClosedError') break;
        throw err;
      }
      story.agent(`child: staging.writeConfig release.flag-${i}`);
      story.gatehouse(describeDecision(r));
      if (r.status === 'executed') childWrites += 1;
      else denied = r;
    }
    const childEnd = await child.end({ reason: 'flags written' }).catch(() => undefined);
    const parentEnd = await parent.end({ reason: 'release prepared' });
    story.say(`child ended ${childEnd?.finalState ?? '(already closed)'}; parent ended ${parentEnd.finalState}`);

    return {
      sessionIds: [parent.sessionId, child.sessionId],
      facts: {
        parentBudgetBefore: parentBefore,
        parentBudgetAfter: parentAfter,
        childBudget: childState.budgetLeft,
        childParent: childState.parentSessionId,
        childWrites,
        deniedStatus: denied?.status,
        deniedRules: denied?.decision.reasons.map((r) => r.rule) ?? [],
        childFinalState: childEnd?.finalState,
        parentFinalState: parentEnd.finalState,
      },
    };
  },
};
