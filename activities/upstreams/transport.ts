/**
 * The transport to one upstream server: a stdio child process (its lines bounded, `bounded-lines.ts`;
 * its stderr handed to `onStderr`, for operators only) or Streamable HTTP (its answers capped,
 * `capped-fetch.ts`). A message over the size limit goes to `onDropped`. Node-only.
 */
import type { Readable } from 'node:stream';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isStdio, type NamedUpstream } from './config';
import { BoundedLineReader, boundLines } from './bounded-lines';
import { cappedFetch } from './capped-fetch';
import type { DroppedMessage } from './size-limit';

export interface TransportHooks {
  /** Marks a dropped message's error, so the call it answered fails as too large. */
  readonly tag: string;
  readonly onDropped: (d: DroppedMessage) => void;
  /** Each chunk a stdio server writes to stderr. */
  readonly onStderr: (chunk: string) => void;
}

export function upstreamTransport(server: NamedUpstream, hooks: TransportHooks): Transport {
  if (isStdio(server)) {
    const t = new StdioClientTransport({
      command: server.command,
      args: [...server.args],
      env: { ...getDefaultEnvironment(), ...server.env },
      ...(server.cwd ? { cwd: server.cwd } : {}),
      stderr: 'pipe',
    });
    boundLines(t, new BoundedLineReader({ tag: hooks.tag, onDropped: hooks.onDropped }));
    (t.stderr as Readable | null)?.on('data', (chunk: Buffer) => hooks.onStderr(chunk.toString()));
    return t;
  }
  return new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: { ...server.headers } },
    fetch: cappedFetch({ tag: hooks.tag, onDropped: hooks.onDropped }),
  });
}
