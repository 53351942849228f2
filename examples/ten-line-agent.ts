import { Gatehouse } from '@gatehouse/client';

const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1)).toISOString().slice(0, 7);
const gh = await Gatehouse.connect(); // GATEHOUSE_URL and GATEHOUSE_AGENT_TOKEN
const session = await gh.startSession({ intent: 'clean up the test billing records from last month' });
const found = await session.propose({ tool: 'billing.query', args: { testOnly: true, period: lastMonth }, reasoning: 'look before deleting' });
console.log(found.status, found.result.matched, 'test records');
let del = await session.propose({ tool: 'billing.deleteRecords', args: { testOnly: true, period: lastMonth }, reasoning: 'the intent says so' }, { wait: 5, waitForFinal: false });
if (del.status === 'pending') {
  console.log('held for approval', del.approvalId); // a person decides: npx gatehouse approvals list
  del = await session.waitFor(del); // until they do; the deadline denies
}
console.log(del.status, del.decision.reasons.map((r) => r.rule));
await session.end({ reason: 'done' });
gh.close();
