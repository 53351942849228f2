/**
 * `npx tsx scripts/mcp-conformance.ts`: the MCP conformance suite (`@modelcontextprotocol/conformance`,
 * every server and client scenario). Server scenarios run against the running stack's `/mcp` (the
 * stack file's gateway, or `GATEHOUSE_URL`; credential `GATEHOUSE_AGENT_TOKEN`) and against the
 * reference server beside it; client scenarios run the stdio bridge and, beside it, the TypeScript
 * SDK client. Prints scenario → reference → Gatehouse and exits 1 when Gatehouse fails a scenario
 * the reference passes. `test/mcp/conformance.test.ts` runs the same in CI.
 */
import { readStackFile } from '../client/config';
import { conformance, LABELS } from './conformance-run';
import { table } from './conformance-table';

async function main(): Promise<void> {
  const token = process.env.GATEHOUSE_AGENT_TOKEN;
  if (!token) throw new Error('no agent credential: set `GATEHOUSE_AGENT_TOKEN` to one from `gatehouse agents create`');
  const base = process.env.GATEHOUSE_URL || readStackFile()?.gateway?.url;
  if (!base) throw new Error('no gateway: run `gatehouse start` or set `GATEHOUSE_URL`');
  const { rows, seconds } = await conformance(new URL('/mcp', base), token);
  process.stdout.write(`${table(rows, LABELS)}\n(server scenarios ${seconds.server} s, client scenarios ${seconds.client} s)\n`);
  if (rows.some((r) => r.regression)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`mcp-conformance: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
