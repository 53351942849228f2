/**
 * Red team: an agent's bearer credential in a workflow history. Whoever reads the namespace's
 * histories — the Temporal UI through the console's proxy (an operator cookie caught on
 * http://localhost is enough), `temporal workflow show`, an agent where the namespace is reachable —
 * would find each session's start input, and with a credential in it act as that agent. Sessions
 * the gateway starts keep the credential in the audit database under a ticket the input names
 * (`audit/start-tickets.ts`): no history holds the token, and a ticket nobody kept starts nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { putStartTicket, startTickets } from '../../audit/start-tickets';
import { RevocationStore } from '../../audit/credentials';
import { Gatehouse, SessionStartRefusedError } from '../../client';
import { startGateway, type RunningGateway } from '../../gateway/start';
import { sessionWorkflowId } from '../../workflows/contract';
import { alertRow, redTeam, trust, type RedTeam } from './attacker';

let rt: RedTeam;
let gateway: RunningGateway;

before(async () => {
  rt = await redTeam('credentials_history');
  gateway = await startGateway({
    temporal: { address: rt.h.address, namespace: rt.h.namespace, taskQueue: rt.h.taskQueue },
    keyset: trust.keyset,
    revocations: new RevocationStore(rt.h.audit.pool),
    credentialTickets: startTickets(rt.h.audit.pool),
    host: '127.0.0.1',
    port: 0,
    env: {},
  });
});
after(async () => {
  await gateway?.close();
  await rt?.close();
});

/** A history as text, every payload's bytes read as UTF-8 (what a reader of the namespace sees). */
function readable(value: unknown): string {
  const walk = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return JSON.stringify(walk(value));
}

describe('an agent\'s credential in a session\'s history', () => {
  it('a session the gateway started holds no credential in its history, and runs as the credential\'s agent', async () => {
    const victim = await rt.agent('payroll-bot', 'eng-021');
    const call = (path: string, body: unknown) =>
      fetch(`${gateway.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${victim.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const started = (await (await call('/v1/sessions', { intent: 'list the volumes' })).json()) as { sessionId: string; agentId: string };
    assert.equal(started.agentId, 'payroll-bot');
    const ran = (await (await call(`/v1/sessions/${started.sessionId}/proposals?wait=30`, { tool: 'volumes.list', args: {}, reasoning: 'look' })).json()) as { status: string };
    assert.equal(ran.status, 'executed');
    // What any reader of the namespace gets: the whole history, payloads decoded.
    const history = readable(await rt.raw.workflow.getHandle(sessionWorkflowId(started.sessionId)).fetchHistory());
    assert.ok(history.includes('credentialTicket'), 'the start input names its ticket');
    assert.equal(history.includes(victim.token), false, 'the bearer token is in no event');
    assert.equal(history.includes(victim.token.split('.')[2]!), false, 'nor its signature');
    const rest = await rt.h.audit.pool.query('SELECT count(*)::int AS n FROM start_tickets WHERE credential = $1', [victim.token]);
    assert.equal(rest.rows[0].n, 0, 'the ticket is dropped once the start is answered');
  });

  it('a ticket read from one session\'s history starts no other session', async () => {
    const victim = await rt.agent('ledger-bot', 'eng-022');
    // A ticket still kept (a start in flight): another session naming it is refused.
    const ticket = await putStartTicket(rt.h.audit.pool, victim.token, 'the-victims-session');
    const thief = await Gatehouse.connect({ address: rt.h.address, namespace: rt.h.namespace, taskQueue: rt.h.taskQueue, token: 'unused', credentialTickets: { put: async () => ticket, drop: async () => undefined } });
    try {
      await assert.rejects(thief.startSession({ sessionId: 'the-thiefs-session', intent: 'list the volumes' }), (err: unknown) => err instanceof SessionStartRefusedError && err.rule === 'start.credential-ticket');
    } finally {
      await thief.close();
    }
  });

  it('a ticket nobody kept starts nothing: refused, alerted', async () => {
    const forger = await Gatehouse.connect({ address: rt.h.address, namespace: rt.h.namespace, taskQueue: rt.h.taskQueue, token: 'unused', credentialTickets: { put: async () => 'st-made-up', drop: async () => undefined } });
    try {
      const id = `ticket-${Date.now()}`;
      await assert.rejects(forger.startSession({ sessionId: id, intent: 'list the volumes' }), (err: unknown) => err instanceof SessionStartRefusedError && err.rule === 'start.credential-ticket');
      await alertRow(rt.h, id, 'start.credential-ticket');
    } finally {
      await forger.close();
    }
  });
});
