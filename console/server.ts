/**
 * The console's HTTP server (fastify): the page, the browser bundle, and a small JSON API for
 * people. Authentication is a passkey session cookie only — an `Authorization` header (an agent
 * credential) opens nothing here, and the console's cookie opens nothing on the gateway, which
 * reads only bearer credentials. Every POST must come from the console's own origin, and every
 * POST after sign-in must carry the session's CSRF token.
 *
 * Routes: `GET /`, `/signin`, `/enrol` (the page) · `GET /assets/app.js` · `GET /api/me` ·
 * `POST /api/enrol/options|verify` · `POST /api/signin/options|verify` · `POST /api/signout` ·
 * `GET /api/approvals` · `GET /api/events` (server-sent events) ·
 * `POST /api/approvals/:id/prepare|decide` · `/temporal/*` (Temporal's Web UI, operators only, with
 * `temporalUi`); the sessions, alerts and policy pages' routes are in `ops-routes.ts` (pages
 * `/sessions`, `/sessions/:id`, `/alerts`, `/policy`).
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { ApprovalStore } from '../approvals/store';
import type { SigningKey } from '../client/trust/key-files';
import type { Keyset } from '../policies/trust';
import { listen } from '../gateway/listen';
import { ConsoleError } from './errors';
import { InboxFeed } from './events';
import { readInbox, readInboxView, temporalStateReader } from './inbox';
import { buildBundle, CONTENT_SECURITY_POLICY, shell } from './page';
import { OperatorControls } from './operator';
import { registerOpsRoutes } from './ops-routes';
import { Passkeys } from './passkeys';
import { DraftError, type PolicySource } from './policy-view';
import { CSRF_HEADER, PersonSessions } from './sessions';
import { ConsoleStore } from './store';
import type { AssertionJSON } from './signed-payload';
import { registerTemporalUiProxy, type TemporalUiProxyOptions } from './temporal-ui-proxy';
import { ConsoleVotes } from './votes';

export interface ConsoleOptions {
  /** The audit database (approvals table, console tables). */
  readonly pool: pg.Pool;
  /** A Temporal client: `state` queries and `approval` signals. */
  readonly client: Client;
  /** The keyset the worker trusts: it must hold the registrar's key. */
  readonly keyset: Keyset;
  /** The console's registrar key (role `registrar`): signs the grants of enrolled passkeys. */
  readonly registrar: SigningKey;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** A port asked for by name: taken, it is an error. @default 0 (a free port) */
  readonly port?: number;
  /**
   * Without `port`: this port when it is free, else a free one (`fellBack`). A passkey signs for the
   * origin it enrolled at, so a console that keeps its port keeps its people's passkeys working.
   */
  readonly preferredPort?: number;
  /**
   * The origin people open, e.g. `https://gatehouse.example.com`; its host is the relying party id.
   * @default `http://localhost:<port>` (WebAuthn refuses an IP address as relying party)
   */
  readonly origin?: string;
  /**
   * The worker's default policy, which the policy page shows, and its catalog.
   * @default as the newest session under the default policy's name recorded it
   */
  readonly policy?: PolicySource['policy'];
  /** The file `policy` was read from, named on the page. */
  readonly policyOrigin?: PolicySource['origin'];
  readonly tools?: PolicySource['tools'];
  /** Temporal's Web UI server (mutual TLS), served under `/temporal/` to operators. @default none */
  readonly temporalUi?: TemporalUiProxyOptions['upstream'];
}

export interface RunningConsole {
  readonly url: string;
  /** `preferredPort` was taken, so another was picked. */
  readonly fellBack: boolean;
  close(): Promise<void>;
}

export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const registered = opts.keyset.keys.find((k) => k.keyId === opts.registrar.keyId);
  if (opts.registrar.role !== 'registrar' || !registered || registered.role !== 'registrar' || registered.revoked) {
    throw new ConsoleError(500, 'registrar', `the console's key \`${opts.registrar.keyId}\` is not a registrar key of the keyset: sessions would refuse every passkey it grants`);
  }
  const bundle = await buildBundle();
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  const store = new ConsoleStore(opts.pool);
  const approvals = new ApprovalStore(opts.pool);
  const readState = temporalStateReader(opts.client);
  const feed = new InboxFeed(() => readInboxView(approvals, readState));
  // The origin may name the port chosen at listen: the parts that need it are made right after.
  let origin = opts.origin ?? '';
  let passkeys!: Passkeys;
  let sessions!: PersonSessions;
  let votes!: ConsoleVotes;
  let operator!: OperatorControls;

  app.addHook('onRequest', async (req, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
    // Only the console's own pages may post here (a cross-site form or script is refused).
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.headers.origin !== origin) {
      throw new ConsoleError(403, 'origin', `requests must come from the console's origin \`${origin}\``);
    }
  });
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof ConsoleError) return reply.code(err.status).send({ code: err.code, message: err.message, ...(err instanceof DraftError ? { issues: err.issues } : {}) });
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.code(status).send({ code: 'bad-request', message: String((err as Error).message).toLowerCase().replace(/\.$/, '') });
    return reply.code(500).send({ code: 'internal', message: 'the console failed to answer: see its log' });
  });

  const body = (req: FastifyRequest): Record<string, unknown> => (typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {});
  const write = (req: FastifyRequest) => sessions.requireWrite(req.headers.cookie, req.headers[CSRF_HEADER]);
  const signIn = (reply: FastifyReply, p: { principal: string; role: 'approver' | 'operator'; credentialId: string; keyId: string }) => {
    const { cookie, person } = sessions.open(p);
    reply.header('set-cookie', cookie);
    return { principal: person.principal, role: person.role, keyId: person.keyId };
  };

  for (const path of ['/', '/signin', '/enrol', '/sessions', '/sessions/:id', '/alerts', '/policy']) app.get(path, async (_req, reply) => reply.type('text/html; charset=utf-8').send(shell()));
  app.get('/assets/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(bundle));

  app.get('/api/me', async (req) => {
    const p = sessions.require(req.headers.cookie);
    return { principal: p.principal, role: p.role, keyId: p.keyId, csrf: p.csrf };
  });
  // Public: each answers a sealed challenge and stores nothing (`passkeys.ts`), so a flood of them
  // cannot push out the challenge a person is answering.
  app.post('/api/enrol/options', async (req) => passkeys.registrationOptions(body(req).invite));
  app.post('/api/enrol/verify', async (req, reply) => {
    const b = body(req);
    const key = await passkeys.enrol(b.invite, b.challengeId, b.response as never);
    return signIn(reply, key);
  });
  app.post('/api/signin/options', async () => passkeys.signInOptions());
  app.post('/api/signin/verify', async (req, reply) => {
    const b = body(req);
    return signIn(reply, await passkeys.signIn(b.challengeId, b.response as never));
  });
  app.post('/api/signout', async (req, reply) => {
    write(req);
    reply.header('set-cookie', sessions.close(req.headers.cookie));
    return { signedOut: true };
  });

  app.get('/api/approvals', async (req) => {
    sessions.require(req.headers.cookie);
    return readInbox(approvals, readState);
  });
  app.get('/api/events', async (req, reply) => {
    sessions.require(req.headers.cookie);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'content-security-policy': CONTENT_SECURITY_POLICY });
    const stop = feed.subscribe((json) => reply.raw.write(`event: inbox\ndata: ${json}\n\n`));
    req.raw.on('close', stop);
  });
  app.post<{ Params: { id: string } }>('/api/approvals/:id/prepare', async (req) => {
    const p = write(req);
    const b = body(req);
    return votes.prepare(p, req.params.id, b.verdict, b.reason);
  });
  app.post<{ Params: { id: string } }>('/api/approvals/:id/decide', async (req) => {
    const p = write(req);
    const b = body(req);
    const result = await votes.submit(p, req.params.id, b.payload, b.assertion as AssertionJSON);
    feed.nudge();
    return result;
  });

  registerOpsRoutes(app, {
    pool: opts.pool,
    readState,
    policy: { ...(opts.policy ? { policy: opts.policy } : {}), ...(opts.policyOrigin ? { origin: opts.policyOrigin } : {}), ...(opts.tools ? { tools: opts.tools } : {}) },
    read: (req) => sessions.require(req.headers.cookie),
    write,
    operator: () => operator,
  });
  if (opts.temporalUi) await registerTemporalUiProxy(app, { upstream: opts.temporalUi, person: (cookie) => sessions.find(cookie) });

  const host = opts.host ?? '127.0.0.1';
  const { port, fellBack } = await listen(app, host, opts.port !== undefined ? { port: opts.port } : { preferredPort: opts.preferredPort ?? 0 });
  origin = opts.origin ?? `http://localhost:${port}`;
  const rp = { rpId: new URL(origin).hostname, origin };
  passkeys = new Passkeys(store, rp, opts.registrar, opts.keyset);
  sessions = new PersonSessions(origin.startsWith('https:'));
  votes = new ConsoleVotes({ approvals, store, readState, client: opts.client, keyset: opts.keyset, rpId: rp.rpId });
  operator = new OperatorControls({ pool: opts.pool, store, readState, client: opts.client, keyset: opts.keyset, rpId: rp.rpId });

  return {
    url: `${origin}/`,
    fellBack,
    async close() {
      await feed.close();
      await app.close();
    },
  };
}
