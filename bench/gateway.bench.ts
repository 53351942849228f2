/**
 * `npm run bench:gateway`: what the gateway adds to a proposal. The same autonomous proposal
 * (`volumes.list`) through the gateway (HTTP/1.1 keep-alive, node:http) and through the
 * Temporal client directly, in one run against one worker: latency of sequential calls
 * (interleaved, so both paths see the same server), and proposals per second over 50 concurrent
 * sessions each. Last line: one JSON object.
 */
import { pct } from './fixtures/percentile';
import { startBenchGateway, startBenchWorker, timed } from './fixtures/worker';
import { Agent, request } from 'node:http';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Gatehouse, type SessionHandle } from '../client';

const TOOL = 'volumes.list';
const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const SESSIONS = 50;
const PER_SESSION = Number(process.env.BENCH_PER_SESSION ?? 12);
const INTENT = 'list volumes and where they are mounted';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const bench = await startBenchWorker({ name: 'gateway' });
  const { servers, trust, temporal } = bench;
  const gateway = await startBenchGateway(bench);
  const direct = await Gatehouse.connect(temporal);

  // A plain HTTP/1.1 keep-alive client (node:http): Node's fetch costs ≈ 0.6 ms more per call on the client side.
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const { hostname, port } = new URL(gateway.url);
  const http = (token: string, method: string, path: string, body: unknown): Promise<any> => // eslint-disable-line @typescript-eslint/no-explicit-any
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
      const req = request({ host: hostname, port, path, method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`gateway ${method} ${path}: ${res.statusCode} ${JSON.stringify(json)}`));
          else resolve(json);
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  const proposal = { tool: TOOL, args: {}, reasoning: 'list volumes' };
  const viaGateway = async (token: string, sessionId: string) => {
    const r = await http(token, 'POST', `/v1/sessions/${sessionId}/proposals`, proposal);
    if (r.status !== 'executed') throw new Error(`gateway call ${r.status}`);
  };
  const viaClient = async (s: SessionHandle) => {
    const r = await s.propose(proposal);
    if (r.status !== 'executed') throw new Error(`direct call ${r.status}`);
  };

  try {
    // Latency: one session per path, calls interleaved, 20 warm-up calls each.
    const token = await trust.credential('bench-agent', 'bench');
    const directSession = await direct.startSession({ credential: token, intent: INTENT });
    const gatewaySession = (await http(token, 'POST', '/v1/sessions', { intent: INTENT })).sessionId as string;
    for (let i = 0; i < 20; i++) {
      await viaClient(directSession);
      await viaGateway(token, gatewaySession);
    }
    const d: number[] = [];
    const g: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      d.push(await timed(() => viaClient(directSession)));
      g.push(await timed(() => viaGateway(token, gatewaySession)));
    }
    d.sort((a, b) => a - b);
    g.sort((a, b) => a - b);

    // Throughput: 50 sessions per path, PER_SESSION sequential proposals in each, all at once.
    const tokens = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => trust.credential(`bench-${i}`, 'bench')));
    const directSessions = await Promise.all(tokens.map((t) => direct.startSession({ credential: t, intent: INTENT })));
    const directSeconds = (await timed(() => Promise.all(directSessions.map(async (s) => { for (let k = 0; k < PER_SESSION; k++) await viaClient(s); })).then(() => undefined))) / 1000;
    const gatewaySessions = await Promise.all(tokens.map(async (t) => ({ t, id: (await http(t, 'POST', '/v1/sessions', { intent: INTENT })).sessionId as string })));
    const gatewaySeconds = (await timed(() => Promise.all(gatewaySessions.map(async (s) => { for (let k = 0; k < PER_SESSION; k++) await viaGateway(s.t, s.id); })).then(() => undefined))) / 1000;

    const calls = SESSIONS * PER_SESSION;
    const figures = {
      temporal: 'dev-memory',
      direct_p50_ms: pct(d, 50),
      gateway_p50_ms: pct(g, 50),
      gateway_p99_ms: pct(g, 99),
      added_p50_ms: Math.round((pct(g, 50) - pct(d, 50)) * 100) / 100,
      direct_per_s: Math.round(calls / directSeconds),
      gateway_per_s: Math.round(calls / gatewaySeconds),
    };
    process.stdout.write(`server: temporal dev server (in memory) at ${servers.temporalAddress}; one in-process worker and gateway; ${CALLS} sequential \`${TOOL}\` proposals per path after 20 warm-up, interleaved; throughput ${SESSIONS} sessions x ${PER_SESSION} proposals per path\n`);
    process.stdout.write(`direct: p50 ${pct(d, 50)} ms, p99 ${pct(d, 99)} ms, ${figures.direct_per_s}/s; gateway: p50 ${figures.gateway_p50_ms} ms, p99 ${figures.gateway_p99_ms} ms, ${figures.gateway_per_s}/s\n`);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    agent.destroy();
    await gateway.close();
    await direct.close();
    await bench.stop();
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
