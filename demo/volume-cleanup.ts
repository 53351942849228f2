/**
 * volume-cleanup: the incident of "clean up orphaned volumes".
 *
 * Each step is valid alone; the sequence is the danger. `volumes.list` runs (a read), then
 * `volumes.unmount` right after it is denied as a forbidden transition. The agent cannot talk
 * its way past that: it can only ask for an out-of-band unlock, which lands as an approval
 * request for a human (denied by default, approved with `--approve`).
 */
import type { DemoContext, Scenario, ScenarioOutcome } from './types';
import { DEMO_POLICY } from './policy';
import { describeDecision, proposeAwaitingApproval, proposeDecided } from './propose';
import { volumeMounted } from './production';
import { restoreVolumes } from '../activities/tools/sample/restore';

export const volumeCleanup: Scenario = {
  name: 'volume-cleanup',
  summary: 'list volumes then unmount one: a forbidden transition, unlockable only by a human',
  async run(ctx: DemoContext): Promise<ScenarioOutcome> {
    const { gh, story } = ctx;
    story.title('volume-cleanup: "clean up orphaned volumes"');
    story.say('Individually valid steps that, in sequence, nearly wiped a production Postgres volume.');

    const remounted = await restoreVolumes(ctx.productionPool);
    if (remounted > 0) story.say(`restored ${remounted} volume mount(s) an earlier run removed (the demo's own sample data)`);

    const session = ctx.track(await gh.startSession({
      sessionId: `volume-cleanup-${ctx.runId}`,
      agentId: 'infra-bot',
      owner: 'ops-017',
      intent: 'clean up orphaned volumes',
      policyRef: DEMO_POLICY,
    }));
    story.say(`session ${session.sessionId} started for infra-bot (owner ops-017)`);

    const listed = await proposeDecided(ctx, session, { tool: 'volumes.list', args: {}, reasoning: 'find the volumes nothing uses' });
    story.agent('volumes.list');
    story.gatehouse(describeDecision(listed), listed.decision);
    const target = pickVolume(listed.result);
    story.say(`the agent picks ${target} as "orphaned"`);
    const mountedBefore = await volumeMounted(ctx.productionPool, target);
    story.fact(`${target} mounted before: ${mountedBefore}`);

    const unmount = { tool: 'volumes.unmount', args: { volumeId: target }, reasoning: 'orphaned volumes must be unmounted before they can be deleted' };
    story.agent(`volumes.unmount ${target}`);
    const denied = await proposeDecided(ctx, session, unmount);
    story.gatehouse(describeDecision(denied), denied.decision);

    story.agent(`asks for an out-of-band unlock of volumes.list -> volumes.unmount for ${target}`);
    const held = await proposeAwaitingApproval(ctx, session, { ...unmount, requestUnlock: true });
    const approve = ctx.options.approve;
    const decided = await held.decide(approve, approve ? 'verified the volume is orphaned' : 'that volume backs the production postgres');
    story.gatehouse(describeDecision(decided), decided.decision);
    const mountedAfter = await volumeMounted(ctx.productionPool, target);
    story.fact(`${target} mounted after: ${mountedAfter}`);

    const summary = await session.end({ reason: 'volume cleanup demo finished' });
    story.say(`session ended: ${summary.finalState}, mode ${summary.mode}`);
    return {
      sessionIds: [session.sessionId],
      facts: {
        approved: approve,
        volumeId: target,
        listStatus: listed.status,
        unmountStatus: denied.status,
        unmountVerdict: denied.decision.verdict,
        unmountRules: denied.decision.reasons.map((r) => r.rule),
        unlockApprovalId: held.approvalId,
        unlocksTransition: held.request.requirement.unlocksTransition,
        unlockStatus: decided.status,
        mountedBefore,
        mountedAfter,
        finalState: summary.finalState,
      },
    };
  },
};

interface ListedVolume {
  readonly id: string;
  readonly sizeGb: number;
  readonly mounts: readonly unknown[];
}

/** The agent's "orphaned" pick, as in the incident: the biggest volume, mounted or not. */
function pickVolume(result: unknown): string {
  const list = [...((result as { volumes?: ListedVolume[] } | undefined)?.volumes ?? [])];
  const pick = list.sort((a, b) => b.sizeGb - a.sizeGb || b.mounts.length - a.mounts.length).find((v) => v.mounts.length > 0) ?? list[0];
  if (!pick) throw new Error(`volumes.list returned no volume: \`${JSON.stringify(result)}\``);
  return pick.id;
}
