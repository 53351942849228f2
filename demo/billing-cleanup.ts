/**
 * billing-cleanup: the incident of "clean up the test billing records from last month".
 *
 * The agent reads (autonomous). Its first destructive idea is the literal incident: delete every
 * billing record of last month. That is above the policy's hard cap and is denied outright: no
 * human could approve it. It narrows the delete to the test records: Gatehouse holds that for
 * approval with the blast radius shown, and a person decides through the same path as the CLI
 * (deny by default, approve with `--approve`). The rows are counted before and after.
 */
import type { DemoContext, Scenario, ScenarioOutcome } from './types';
import { countBillingRows, testMonth } from './production';
import { SAMPLE_TEST_RECORDS } from '../activities/tools/sample/seed';
import { restoreTestRecords } from '../activities/tools/sample/restore';
import { billingPolicy, DEMO_BILLING_POLICY } from './policy';
import { describeDecision, proposeAwaitingApproval, proposeDecided } from './propose';

export const billingCleanup: Scenario = {
  name: 'billing-cleanup',
  summary: 'a 14,200-row production delete held for a human; above the hard cap, denied outright',
  async run(ctx: DemoContext): Promise<ScenarioOutcome> {
    const { gh, story, productionPool } = ctx;
    const period = await testMonth(productionPool);
    story.title('billing-cleanup: "clean up the test billing records from last month"');
    story.say('An agent with a vague instruction and write access to production billing. Last time, 14,200 rows were gone.');

    // The demo's own data: an earlier approved run deleted the test records; put them back.
    const restored = await restoreTestRecords(productionPool);
    if (restored > 0) story.say(`restored ${restored.toLocaleString('en-US')} test records an earlier run deleted (the demo's own sample data)`);
    const testBefore = await countBillingRows(productionPool, { testOnly: true, period });
    const monthBefore = await countBillingRows(productionPool, { period });
    const allBefore = await countBillingRows(productionPool, {});
    story.fact(`billing rows of ${period}: ${monthBefore} (${testBefore} of them test records); all billing rows: ${allBefore}`, { testBefore, monthBefore, allBefore });

    // The worker's `demo-billing` policy: the one `gatehouse start` registers (same function, same cap).
    const { denyAbove, tightened } = await billingPolicy(SAMPLE_TEST_RECORDS);
    if (tightened) story.say(`this cleanup's change ticket caps billing deletes at ${denyAbove.toLocaleString('en-US')} rows (policy \`${DEMO_BILLING_POLICY}\`, which the worker loaded)`);
    const session = ctx.track(await gh.startSession({
      sessionId: `billing-cleanup-${ctx.runId}`,
      agentId: 'billing-bot',
      owner: 'intern-042',
      intent: 'clean up the test billing records from last month',
      policyRef: DEMO_BILLING_POLICY,
    }));
    story.say(`session ${session.sessionId} started for billing-bot (owner intern-042)`);

    // 1. Reads run on their own.
    story.agent(`billing.query test records of ${period}`);
    const query = await proposeDecided(ctx, session, {
      tool: 'billing.query',
      args: { testOnly: true, period, limit: 5 },
      reasoning: 'look at the test billing records from last month before cleaning them up',
    });
    story.gatehouse(describeDecision(query), query.decision);

    // 2. The literal incident: every record of last month. Above the hard cap: denied outright.
    story.agent(`billing.deleteRecords every billing record of ${period} (DELETE FROM billing WHERE billed_at in last month)`);
    const overCap = await proposeDecided(ctx, session, {
      tool: 'billing.deleteRecords',
      args: { period },
      reasoning: 'clean up the billing records from last month: delete them',
    });
    story.gatehouse(describeDecision(overCap), overCap.decision);

    // 3. Narrowed to the test records: held for a human, who sees the blast radius.
    story.agent(`billing.deleteRecords the test records of ${period} only`);
    const held = await proposeAwaitingApproval(ctx, session, {
      tool: 'billing.deleteRecords',
      args: { testOnly: true, period },
      reasoning: 'clean up the test billing records from last month: only the records tagged as test data',
    });
    const approve = ctx.options.approve;
    const decided = await held.decide(approve, approve ? 'checked the filter: test records only, backup verified' : 'not without a backup and a change ticket');
    story.gatehouse(describeDecision(decided), decided.decision);

    const testAfter = await countBillingRows(productionPool, { testOnly: true, period });
    const monthAfter = await countBillingRows(productionPool, { period });
    const allAfter = await countBillingRows(productionPool, {});
    story.fact(`billing rows of ${period} after: ${monthAfter} (${testAfter} test records); all billing rows: ${allAfter}`, { testAfter, monthAfter, allAfter });
    story.say(decided.status === 'executed'
      ? `${(testBefore - testAfter).toLocaleString('en-US')} test rows deleted, after a person looked at the blast radius and said yes`
      : `${testAfter.toLocaleString('en-US')} test rows still right where they belong`);

    const summary = await session.end({ reason: 'billing cleanup demo finished' });
    story.say(`session ended: ${summary.finalState}, mode ${summary.mode}`);
    return {
      sessionIds: [session.sessionId],
      facts: {
        period,
        approved: approve,
        hardCap: denyAbove,
        hardCapTightened: tightened,
        queryStatus: query.status,
        overCapStatus: overCap.status,
        overCapVerdict: overCap.decision.verdict,
        overCapRules: overCap.decision.reasons.map((r) => r.rule),
        approvalId: held.approvalId,
        blastRadius: held.request.blastRadius,
        heldRules: held.decision.reasons.map((r) => r.rule),
        outcomeStatus: decided.status,
        testBefore,
        testAfter,
        monthBefore,
        monthAfter,
        allBefore,
        allAfter,
        finalState: summary.finalState,
      },
    };
  },
};
