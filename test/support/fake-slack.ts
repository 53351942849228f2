/**
 * Slack's Web API replaced at the wire: a local HTTP server (127.0.0.1, free port) answering the
 * methods Gatehouse uses (`chat.postMessage`, `chat.update`, `chat.postEphemeral`, `views.open`,
 * `auth.test`) the way Slack does, and recording every call. Point a `WebClient` (or Bolt's
 * `clientOptions`) at it with `slackApiUrl: fake.url`.
 *
 * Nothing here decides anything: it only answers `ok: true` with the fields Slack returns
 * (`channel`, `ts`, `view.id`), `invalid_blocks` for blocks Slack would refuse
 * (`slack-blocks.ts`), or the error queued with `failNext`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blockProblems } from './slack-blocks';

/** One recorded Web API call: the method and its arguments (JSON fields such as `blocks` parsed). */
export interface SlackCall {
  readonly method: string;
  readonly args: Record<string, unknown>;
  /** Bearer token the client sent. */
  readonly token?: string;
  /** What the fake answered (`ts`, `channel`, `view.id`…). */
  readonly response: Record<string, unknown>;
  readonly at: number;
}

export interface FakeSlack {
  /** Base URL to use as `slackApiUrl` (ends with `/api/`). */
  readonly url: string;
  /** Every call received, in order. */
  readonly calls: readonly SlackCall[];
  /** Calls of one method. */
  callsOf(method: string): SlackCall[];
  /** Resolves with the first call (already made or to come) of `method` matching `match`. */
  waitFor(method: string, match?: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  /** Makes the next call of `method` answer `{ ok: false, error }`. */
  failNext(method: string, error: string): void;
  /** Forgets the recorded calls. */
  reset(): void;
  close(): Promise<void>;
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);

/** A stable fake channel id for a channel given by name (`#approvals` → `C…`). */
function channelId(channel: string): string {
  if (/^[CDG][A-Z0-9]+$/.test(channel)) return channel;
  let h = 0;
  for (const c of channel) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `C${h.toString(36).toUpperCase().padStart(8, '0')}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseArgs(contentType: string, body: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return body ? (JSON.parse(body) as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    if (JSON_FIELDS.has(k)) {
      try {
        args[k] = JSON.parse(v);
        continue;
      } catch {
        // keep the raw text
      }
    }
    args[k] = v;
  }
  return args;
}

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const failures = new Map<string, string[]>();
  const waiters = new Set<{ method: string; match: (c: SlackCall) => boolean; resolve: (c: SlackCall) => void }>();
  let seq = 0;
  const nextTs = () => {
    seq += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(seq).padStart(6, '0')}`;
  };

  function answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const queued = failures.get(method);
    const error = queued?.shift();
    if (error) return { ok: false, error };
    // What Slack would refuse is refused here too (`invalid_blocks`), with the problems it names.
    const problems = method === 'views.open' ? blockProblems((args.view as { blocks?: unknown } | undefined)?.blocks, 100) : blockProblems(args.blocks, 50);
    if (problems.length > 0) return { ok: false, error: 'invalid_blocks', errors: problems };
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://gatehouse-test.slack.com/', team: 'Gatehouse Test', user: 'gatehouse', team_id: 'T000TEST', user_id: 'U000BOT', bot_id: 'B000BOT' };
      case 'chat.postMessage': {
        const channel = channelId(String(args.channel ?? ''));
        const ts = nextTs();
        return { ok: true, channel, ts, message: { type: 'message', text: args.text, blocks: args.blocks, ts, bot_id: 'B000BOT' } };
      }
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text, message: { text: args.text, blocks: args.blocks } };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: nextTs() };
      case 'views.open': {
        const view = (args.view ?? {}) as Record<string, unknown>;
        return { ok: true, view: { ...view, id: `V${String(++seq).padStart(8, '0')}` } };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const body = await readBody(req);
      let args: Record<string, unknown>;
      try {
        args = parseArgs(String(req.headers['content-type'] ?? ''), body);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: 'invalid_json' }));
        return;
      }
      const auth = String(req.headers.authorization ?? '');
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : typeof args.token === 'string' ? args.token : undefined;
      const payload = answer(method, args);
      const call: SlackCall = { method, args, ...(token ? { token } : {}), response: payload, at: Date.now() };
      calls.push(call);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(payload));
      for (const w of [...waiters]) {
        if (w.method === method && w.match(call)) {
          waiters.delete(w);
          w.resolve(call);
        }
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    callsOf: (method) => calls.filter((c) => c.method === method),
    waitFor(method, match = () => true, timeoutMs = 15_000) {
      const found = calls.find((c) => c.method === method && match(c));
      if (found) return Promise.resolve(found);
      return new Promise<SlackCall>((resolve, reject) => {
        const waiter = {
          method,
          match,
          resolve: (c: SlackCall) => {
            clearTimeout(timer);
            resolve(c);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`fake slack: no \`${method}\` call matched within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    failNext(method, error) {
      failures.set(method, [...(failures.get(method) ?? []), error]);
    },
    reset() {
      calls.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
