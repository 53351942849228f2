/**
 * stdio's side of the upstream message size limit (`size-limit.ts`): newline-delimited JSON-RPC
 * read with each line bounded, a longer one dropped and the request it answers failed alone.
 */
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { deserializeMessage, ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { answeredId } from './answered-id';
import { MAX_UPSTREAM_MESSAGE_BYTES, tooLargeResponse, type SizeLimitOptions } from './size-limit';

/** Bytes kept of each end of a line over the limit, to find the id it answers. */
const KEEP_BYTES = 4096;

type Line = { readonly line: Buffer } | { readonly head: Buffer; readonly tail: Buffer; readonly bytes: number };

/**
 * Newline-delimited JSON-RPC messages from a stdio server, each line at most `limitBytes`: what
 * the SDK's `ReadBuffer` does, except that a longer line is dropped instead of failing the stream.
 */
export class BoundedLineReader implements Pick<ReadBuffer, 'append' | 'readMessage' | 'clear'> {
  readonly #limit: number;
  /** The line being read, while within the limit. */
  #parts: Buffer[] = [];
  #size = 0;
  /** The line being read once over the limit: its first and last bytes only. */
  #over: { readonly head: Buffer; tail: Buffer } | undefined;
  /** Lines read whole, not yet taken. */
  #lines: Line[] = [];

  constructor(private readonly opts: SizeLimitOptions) {
    this.#limit = opts.limitBytes ?? MAX_UPSTREAM_MESSAGE_BYTES;
  }

  append(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(0x0a, at);
      this.#add(chunk.subarray(at, nl === -1 ? chunk.length : nl));
      if (nl === -1) return;
      this.#endLine();
      at = nl + 1;
    }
  }

  /** The next message, or null when no whole line is left. Throws on a line that is not a JSON-RPC message (as the SDK's does). */
  readMessage(): JSONRPCMessage | null {
    for (;;) {
      const next = this.#lines.shift();
      if (next === undefined) return null;
      if ('line' in next) return deserializeMessage(next.line.toString('utf8').replace(/\r$/, ''));
      const id = answeredId(next.head.toString('utf8'), next.tail.toString('utf8'));
      this.opts.onDropped?.({ bytes: next.bytes, limitBytes: this.#limit, id });
      if (id !== undefined) return tooLargeResponse(id, this.opts.tag, this.#limit, next.bytes);
    }
  }

  clear(): void {
    this.#parts = [];
    this.#size = 0;
    this.#over = undefined;
    this.#lines = [];
  }

  #add(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#size += piece.length;
    if (this.#over) {
      this.#over.tail = lastBytes([this.#over.tail, piece]);
      return;
    }
    this.#parts.push(piece);
    if (this.#size <= this.#limit) return;
    // Over the limit: from here on only its ends are kept.
    this.#over = { head: Buffer.concat(this.#parts, Math.min(KEEP_BYTES, this.#size)), tail: lastBytes(this.#parts) };
    this.#parts = [];
  }

  #endLine(): void {
    if (this.#over) this.#lines.push({ head: this.#over.head, tail: this.#over.tail, bytes: this.#size });
    else if (this.#size > 0) this.#lines.push({ line: this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size) });
    this.#parts = [];
    this.#size = 0;
    this.#over = undefined;
  }
}

/** The last `KEEP_BYTES` of the pieces, copied. */
function lastBytes(pieces: readonly Buffer[]): Buffer {
  const taken: Buffer[] = [];
  let n = 0;
  for (let i = pieces.length - 1; i >= 0 && n < KEEP_BYTES; i--) {
    taken.unshift(pieces[i]!);
    n += pieces[i]!.length;
  }
  const all = Buffer.concat(taken, n);
  return Buffer.from(all.subarray(Math.max(0, n - KEEP_BYTES)));
}

/**
 * Puts `reader` in place of the read buffer of an SDK stdio transport not yet started. The SDK
 * offers no option for it: its transport reads through a private `_readBuffer` (a `ReadBuffer`),
 * so this fails loudly, rather than leaving messages unbounded, if a later SDK has none.
 */
export function boundLines(transport: StdioClientTransport, reader: BoundedLineReader): void {
  const t = transport as unknown as { _readBuffer?: unknown };
  if (!(t._readBuffer instanceof ReadBuffer)) {
    throw new Error('the MCP SDK stdio transport has no read buffer to replace (`_readBuffer`): the upstream message size limit cannot be applied');
  }
  t._readBuffer = reader;
}
