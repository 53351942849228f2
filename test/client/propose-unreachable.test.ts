/**
 * A proposal whose answer is lost on the way back is not lost: `@gatehouse/client` names it on the
 * `GatewayUnreachableError` (`proposalId`, its `Idempotency-Key`), `waitFor` reads the outcome the
 * gateway kept, and a proposal sent again under the same id is the same proposal — the tool ran
 * once. The real gateway, worker and Temporal server; a TCP proxy between the client and the
 * gateway forwards the request and closes the connection when the answer comes, at the wire.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Gatehouse, GatewayUnreachableError, NotFoundError, type ProposeResult, type Session } from '../../packages/client/src/index';
import { startFixture, type GatewayFixture } from '../gateway/client';
import { testTrust } from '../support/trust';

/**
 * A proxy to `target`; `dropNextAnswer()` makes it close the agent's connection when the gateway
 * answers next: before any byte of the answer, or (`'body'`) after its headers and one byte of its body.
 */
interface DroppingProxy {
  readonly url: string;
  dropNextAnswer(at?: 'start' | 'body'): void;
  /** Answers dropped so far. */
  readonly dropped: number;
  close(): Promise<void>;
}

async function droppingProxy(target: string): Promise<DroppingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let armed: 'start' | 'body' | undefined;
  let dropped = 0;
  const server: Server = createServer((agent) => {
    const gateway = connect(Number(port), hostname);
    for (const s of [agent, gateway]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        agent.destroy();
        gateway.destroy();
      });
    }
    agent.pipe(gateway);
    let answer = Buffer.alloc(0);
    gateway.on('data', (chunk: Buffer) => {
      if (armed === undefined) return void agent.write(chunk);
      // The gateway has handled the request and is answering: the agent never sees (all of) it.
      answer = Buffer.concat([answer, chunk]);
      const headersEnd = answer.indexOf('\r\n\r\n');
      if (armed === 'body' && headersEnd < 0) return;
      if (armed === 'body') agent.write(answer.subarray(0, headersEnd + 5));
      armed = undefined;
      dropped += 1;
      agent.destroy();
      gateway.destroy();
    });
    gateway.on('end', () => agent.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropNextAnswer: (at = 'start') => void (armed = at),
    get dropped() {
      return dropped;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const trust = testTrust();
let f: GatewayFixture;
let proxy: DroppingProxy;

before(async () => {
  f = await startFixture('propose-unreachable', {});
  proxy = await droppingProxy(f.gateway.url);
});
after(async () => {
  await proxy?.close();
  await f?.close();
});

/** A session of a fresh agent through the proxy, and how to count what ran in it. */
async function sessionThroughProxy(agentId: string): Promise<{ gh: Gatehouse; session: Session; executed: () => Promise<number> }> {
  const gh = await Gatehouse.connect({ url: proxy.url, token: await trust.credential(agentId, 'eng-007') });
  const session = await gh.startSession({ intent: 'list volumes and look up billing records' });
  const executed = async () => (await f.h.events(session.sessionId)).filter((e) => e.kind === 'executed').length;
  return { gh, session, executed };
}

/** `propose` of `volumes.list` (autonomous) whose answer the proxy drops: the error it throws. */
async function lostProposal(session: Session, proposalId?: string, at?: 'start' | 'body'): Promise<GatewayUnreachableError> {
  const before = proxy.dropped;
  proxy.dropNextAnswer(at);
  const err = await session.propose({ tool: 'volumes.list', args: {}, reasoning: 'see the volumes' }, proposalId === undefined ? {} : { proposalId }).then(
    (r) => assert.fail(`the answer should have been lost, got ${JSON.stringify(r)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayUnreachableError, String(err));
  assert.equal(proxy.dropped, before + 1, 'the proxy dropped the answer, after the gateway handled the request');
  return err;
}

describe('a proposal whose answer was lost', () => {
  it('is named on the error, and waitFor answers its outcome: the tool ran once', async () => {
    const { gh, session, executed } = await sessionThroughProxy('lost-answer-bot');
    try {
      const err = await lostProposal(session);
      assert.equal(typeof err.proposalId, 'string');
      const outcome: ProposeResult = await session.waitFor(err.proposalId!);
      assert.equal(outcome.status, 'executed');
      assert.equal(outcome.sequence, 1);
      assert.ok(Array.isArray(outcome.result?.volumes), JSON.stringify(outcome.result));
      assert.equal(await executed(), 1);
      const state = await session.state();
      assert.equal(state.counters.proposals, 1);
      assert.equal(state.counters.executed, 1);
    } finally {
      gh.close();
    }
  });

  it('is named on the error too when the connection drops in the middle of the answer', async () => {
    const { gh, session, executed } = await sessionThroughProxy('lost-body-bot');
    try {
      const err = await lostProposal(session, undefined, 'body');
      assert.equal(typeof err.proposalId, 'string');
      assert.equal((await session.waitFor(err.proposalId!)).status, 'executed');
      assert.equal(await executed(), 1);
    } finally {
      gh.close();
    }
  });

  it('proposed again under the same proposalId is the same proposal: its first outcome, run once', async () => {
    const { gh, session, executed } = await sessionThroughProxy('retry-lost-bot');
    try {
      const err = await lostProposal(session, 'agent-step-7');
      assert.equal(err.proposalId, 'agent-step-7');
      const again = await session.propose({ tool: 'volumes.list', args: {}, reasoning: 'see the volumes' }, { proposalId: 'agent-step-7' });
      assert.equal(again.status, 'executed');
      assert.equal(again.sequence, 1);
      assert.deepEqual(again, await session.waitFor('agent-step-7'));
      assert.equal(await executed(), 1);
      // A new id is a new proposal.
      assert.equal((await session.propose({ tool: 'volumes.list', args: {}, reasoning: 'again' }, { proposalId: 'agent-step-8' })).sequence, 2);
      assert.equal(await executed(), 2);
    } finally {
      gh.close();
    }
  });

  it('a proposal that never reached the gateway is not found by its id; a proposalId the gateway would refuse is refused before sending', async () => {
    const { gh, session, executed } = await sessionThroughProxy('never-sent-bot');
    try {
      await assert.rejects(session.waitFor('never-sent-1', { wait: 0 }), NotFoundError);
      await assert.rejects(session.propose({ tool: 'volumes.list' }, { proposalId: 'step 1' }), /proposalId must be 1 to 200 letters, digits or `.:_-`, not `step 1`/);
      assert.equal((await session.state()).counters.proposals, 0);
      assert.equal(await executed(), 0);
    } finally {
      gh.close();
    }
  });
});
