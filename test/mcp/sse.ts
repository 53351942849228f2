/**
 * What the resumption tests share: an SSE stream read event by event over `fetch` (so a test can
 * drop it where it likes and see the ids, `retry` and priming events the SDK client hides), and a
 * forwarding proxy whose open connections a test can cut, as a flaky network would.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SseEvent {
  readonly id?: string;
  readonly retry?: number;
  readonly data: string;
}

export interface SseStream {
  readonly status: number;
  /** The body when the answer is not an event stream (an error). */
  readonly text?: string;
  /** The next event; `undefined` once the stream ended. */
  next(): Promise<SseEvent | undefined>;
  /** Drops the connection (what a lost network does). */
  drop(): void;
}

/** Sends one request and reads its answer as server-sent events. */
export async function openSse(url: URL, init: { method: string; headers: Record<string, string>; body?: unknown }): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, {
    method: init.method,
    headers: init.headers,
    signal: abort.signal,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  if (!res.headers.get('content-type')?.includes('text/event-stream')) {
    return { status: res.status, text: await res.text(), next: async () => undefined, drop: () => abort.abort() };
  }
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  return {
    status: res.status,
    async next() {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event = parse(block);
          if (event) return event;
          continue;
        }
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done) return undefined;
        buffered += value;
      }
    },
    drop: () => abort.abort(),
  };
}

/** One SSE block; comments (keep-alives) alone are no event. */
function parse(block: string): SseEvent | undefined {
  let id: string | undefined;
  let retry: number | undefined;
  const data: string[] = [];
  let fields = 0;
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) continue;
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    fields += 1;
    if (name === 'id') id = value;
    else if (name === 'retry') retry = Number(value);
    else if (name === 'data') data.push(value);
  }
  if (fields === 0) return undefined;
  return { ...(id !== undefined ? { id } : {}), ...(retry !== undefined ? { retry } : {}), data: data.join('\n') };
}

/** Reads events until one is the JSON-RPC answer to `id`; returns it and every event read. */
export async function answerTo(stream: SseStream, id: number): Promise<{ answer: { result?: Record<string, unknown> }; events: SseEvent[] }> {
  const events: SseEvent[] = [];
  for (;;) {
    const event = await stream.next();
    if (!event) throw new Error(`the stream ended without an answer to request ${id}; events: ${JSON.stringify(events)}`);
    events.push(event);
    if (event.data === '') continue;
    const message = JSON.parse(event.data) as { id?: number; result?: Record<string, unknown> };
    if (message.id === id) return { answer: message, events };
  }
}

export interface DroppingProxy {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: URL;
  /** GET requests that carried `Last-Event-ID` (a client resuming a stream). */
  readonly resumes: string[];
  /** Cuts every connection open now, both ways. */
  drop(): void;
  close(): Promise<void>;
}

/** A proxy to `target` whose connections a test can cut. */
export async function droppingProxy(target: URL): Promise<DroppingProxy> {
  const open = new Set<{ destroy(): void }>();
  const resumes: string[] = [];
  const server = http.createServer((req, res) => {
    const last = req.headers['last-event-id'];
    if (req.method === 'GET' && typeof last === 'string') resumes.push(last);
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    const pair = {
      destroy() {
        upstream.destroy();
        res.destroy();
        req.socket.destroy();
      },
    };
    open.add(pair);
    res.on('close', () => open.delete(pair));
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}${target.pathname}`),
    resumes,
    drop() {
      for (const p of [...open]) p.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const p of [...open]) p.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
