/**
 * The README's ten-line agent, as a file: `npx tsx examples/ten-line-agent.ts` against a running
 * `npm start`. The end-to-end test runs it exactly as it is.
 */
import { Gatehouse } from '../client';

async function main(): Promise<void> {
  const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1)).toISOString().slice(0, 7);
  const gh = await Gatehouse.connect(); // finds the running stack (or TEMPORAL_ADDRESS)
  const session = await gh.startSession({ agentId: 'billing-bot', owner: 'eng-007', intent: 'clean up the test billing records from last month' });
  const found = await session.propose({ tool: 'billing.query', args: { testOnly: true, period: lastMonth }, reasoning: 'look before deleting' });
  console.log(found.status, found.result);
  const del = await session.propose({ tool: 'billing.deleteRecords', args: { testOnly: true, period: lastMonth }, reasoning: 'the intent says so' });
  console.log(del.status, del.decision.reasons.map((r) => r.rule)); // held until a person decides; the deadline denies
  await session.end({ reason: 'done' });
  await gh.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
