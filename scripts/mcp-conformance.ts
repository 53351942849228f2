/**
 * `npx tsx scripts/mcp-conformance.ts`: the MCP conformance suite against the running stack's `/mcp`
 * (the stack file's gateway, or `GATEHOUSE_URL`; credential `GATEHOUSE_AGENT_TOKEN`) and against the
 * reference server beside it; prints scenario → reference → Gatehouse and exits 1 when Gatehouse
 * fails a scenario the reference passes. `test/mcp/conformance.test.ts` runs the same in CI.
 */
import { readStackFile } from '../client/config';
import { freePort } from '../worker/devstack/ports';
import { bearerProxy, compare, runSuite, startReference, table } from './conformance-run';

async function main(): Promise<void> {
  const token = process.env.GATEHOUSE_AGENT_TOKEN;
  if (!token) throw new Error('no agent credential: set `GATEHOUSE_AGENT_TOKEN` to one from `gatehouse agents create`');
  const base = process.env.GATEHOUSE_URL || readStackFile()?.gateway?.url;
  if (!base) throw new Error('no gateway: run `gatehouse start` or set `GATEHOUSE_URL`');
  const proxy = await bearerProxy(new URL('/mcp', base), token);
  const reference = await startReference(await freePort());
  try {
    const rows = compare(await runSuite(reference.url.href), await runSuite(proxy.url.href));
    process.stdout.write(`${table(rows)}\n`);
    if (rows.some((r) => r.regression)) process.exitCode = 1;
  } finally {
    await reference.close();
    await proxy.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`mcp-conformance: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
