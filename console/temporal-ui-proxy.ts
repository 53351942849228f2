/**
 * Temporal's Web UI under `/temporal/`, for signed-in operators only. The UI server
 * (worker/devstack/temporal-ui.ts) listens behind mutual TLS with a CA that issued one client
 * certificate, this process's: no other local process can talk to it, and this proxy forwards only
 * a request whose console session is an operator's (no cookie: 401; an approver: 403; an agent's
 * bearer token is not a session). It forwards reads only — GET, HEAD and the API's workflow
 * queries — so a write is refused here as well as by the UI server's `disableWriteActions`.
 *
 * What reaches the UI server carries neither the console's cookie nor an `Authorization` header;
 * the UI's `_csrf` cookie is kept to `/temporal`. Its HTML pages get a content security policy
 * that allows the page's own inline scripts by hash only: the UI renders payloads an agent wrote,
 * and a script injected there would run on the console's origin.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConsoleError } from './errors';
import type { Person } from './sessions';

export const TEMPORAL_UI_PATH = '/temporal';

export interface TemporalUiProxyOptions {
  /** The UI server's listener and the console's client certificate for it. */
  readonly upstream: { readonly origin: string; readonly caFile: string; readonly certFile: string; readonly keyFile: string };
  /** The signed-in person of a `Cookie` header, or undefined. */
  readonly person: (cookieHeader: string | undefined) => Person | undefined;
}

/** POSTs the UI makes that only read: `…/workflows/<id>/query/<type>` (one raw segment each). */
const QUERY_PATH = /^\/temporal\/api\/v1\/namespaces\/[^/]+\/workflows\/[^/]+\/query\/[^/]+$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

/** Registers `/temporal` and `/temporal/*` (any method) on the console. */
export async function registerTemporalUiProxy(app: FastifyInstance, o: TemporalUiProxyOptions): Promise<void> {
  const url = new URL(o.upstream.origin);
  const tls: RequestOptions = { ca: readFileSync(o.upstream.caFile), cert: readFileSync(o.upstream.certFile), key: readFileSync(o.upstream.keyFile) };
  await app.register(async (scope) => {
    // Bodies pass through as bytes (the UI's queries are JSON, but are not ours to parse).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const person = o.person(req.headers.cookie);
      if (!person) throw new ConsoleError(401, 'signed-out', 'sign in with your passkey first');
      if (person.role !== 'operator') throw new ConsoleError(403, 'operator-only', 'temporal\'s web ui is for operators: approvers decide in the inbox');
      const path = req.url.split('?')[0]!;
      const read = req.method === 'GET' || req.method === 'HEAD' || (req.method === 'POST' && QUERY_PATH.test(path) && !/%2e|%2f|%5c|\\/i.test(path));
      if (!read) throw new ConsoleError(405, 'read-only', `temporal's web ui is read only here: \`${req.method}\` is refused; halt, pause and resume a session with gatehouse`);
      const upstream = await forward(url, tls, req);
      reply.code(upstream.statusCode ?? 502);
      const headers = responseHeaders(upstream.headers);
      if (String(upstream.headers['content-type'] ?? '').startsWith('text/html')) {
        const html = await readAll(upstream);
        return reply.headers({ ...headers, 'content-security-policy': htmlPolicy(html.toString('utf8')) }).send(html);
      }
      return reply.headers(headers).send(upstream);
    };
    scope.all(TEMPORAL_UI_PATH, handler);
    scope.all(`${TEMPORAL_UI_PATH}/*`, handler);
  });
}

function forward(url: URL, tls: RequestOptions, req: FastifyRequest): Promise<IncomingMessage> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'cookie' || name === 'authorization' || name === 'accept-encoding' || name.startsWith('x-forwarded-')) continue;
    headers[name] = value;
  }
  // Only the UI's own cookie: the console's session never leaves this process.
  const csrf = /(?:^|;\s*)(_csrf=[^;]*)/.exec(req.headers.cookie ?? '')?.[1];
  if (csrf) headers.cookie = csrf;
  const body = Buffer.isBuffer(req.body) ? req.body : undefined;
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const out = request({ ...tls, host: url.hostname, port: url.port, method: req.method, path: req.url, headers, timeout: 30_000 }, resolve);
    out.on('timeout', () => out.destroy(new ConsoleError(504, 'temporal-ui', 'temporal\'s web ui did not answer in time')));
    out.on('error', (err) => reject(err instanceof ConsoleError ? err : new ConsoleError(502, 'temporal-ui', `temporal's web ui is unreachable: ${err.message}`)));
    out.end(body);
  });
}

function responseHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'content-security-policy') continue;
    // The UI's `_csrf` cookie is the UI's: kept to its path.
    out[name] = name === 'set-cookie' ? (value as string[]).map((c) => c.replace(/;\s*Path=\/(?=;|$)/i, `; Path=${TEMPORAL_UI_PATH}`)) : value;
  }
  return out;
}

/** The console's policy, with the page's own inline scripts allowed by their hashes. */
export function htmlPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
  return `default-src 'self'; script-src 'self' ${hashes.join(' ')}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'`;
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}
