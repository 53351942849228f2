/**
 * The hash chain of a session: each event carries the hash of its predecessor, and its own hash
 * is sha256(prev_hash || canonicalJson(event)). Pure: the store uses it to write, `verify` to
 * recompute from rows or from an export file.
 */
import type { AuditEventInput } from './types';
import { AuditInputError } from './errors';
import { canonicalJson, sha256Hex } from './hashing';

/** What the first event of every session chains from. */
export const GENESIS_HASH = '0'.repeat(64);

/** How the chain is computed, written into exports so an offline checker knows. */
export const CHAIN_ALGORITHM = 'sha256(prev_hash || canonicalJson(event))';

const MAX_INT4 = 2_147_483_647;
const MIN_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');

/** Optional fields of an event, in column order. */
const OPTIONAL_FIELDS = [
  'proposalSeq', 'tool', 'args', 'reasoning', 'decision', 'approvalId', 'approver',
  'latencyMs', 'tokenCost', 'resultStatus', 'error', 'detail',
] as const;
const NUMBER_FIELDS = new Set(['proposalSeq', 'latencyMs', 'tokenCost']);
const JSON_FIELDS = new Set(['args', 'decision', 'detail']);

/**
 * What PostgreSQL cannot store as given: NUL (text and jsonb refuse it) and lone UTF-16
 * surrogates (jsonb refuses them; text gets U+FFFD). Both become U+FFFD before hashing, so what
 * is hashed is what is stored.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** The same, as `JSON.stringify` writes them (it escapes NUL and lone surrogates). */
const UNSTORABLE_IN_JSON = /\\u0000|\\ud[89a-f]/i;

/** A string as PostgreSQL will store it (see `UNSTORABLE`). */
export function scrubString(value: string): string {
  UNSTORABLE.lastIndex = 0;
  return UNSTORABLE.test(value) ? value.replace(UNSTORABLE, '\uFFFD') : value;
}

/** A JSON value as PostgreSQL will store it: every string and key through `scrubString`. */
export function scrub(value: unknown): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (Array.isArray(value)) return value.map(scrub);
  if (value !== null && typeof value === 'object') {
    // Defined, not assigned (fromEntries): an own `__proto__` key (JSON.parse makes one) stays a key, not the prototype.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubString(k), scrub(v)]));
  }
  return value;
}

/** `JSON.stringify(value)` as PostgreSQL will store it (see `scrub`): for jsonb columns outside the chain. */
export function storableJson(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  return UNSTORABLE_IN_JSON.test(text) ? JSON.stringify(scrub(JSON.parse(text))) : text;
}

/**
 * The event exactly as the database will give it back: JSON round-tripped, `null`/`undefined`
 * members dropped, `at` in `toISOString()` form (millisecond precision, UTC). Hashing this form
 * means a row read back hashes to what was written.
 */
export function normalizeEvent(event: AuditEventInput): AuditEventInput {
  if (typeof event.sessionId !== 'string' || event.sessionId.length === 0) {
    throw new AuditInputError('an audit event needs a non-empty `sessionId`');
  }
  if (!Number.isSafeInteger(event.seq) || event.seq < 1 || event.seq > MAX_INT4) {
    throw new AuditInputError(`event seq \`${String(event.seq)}\` of session \`${event.sessionId}\` is not a positive integer`);
  }
  const time = new Date(event.at).getTime();
  // Years 1–9999: what ISO 8601 writes plainly and PostgreSQL stores (JS dates go further).
  if (typeof event.at !== 'string' || Number.isNaN(time) || time < MIN_TIME || time > MAX_TIME) {
    throw new AuditInputError(`event ${event.seq} of session \`${event.sessionId}\` has an unreadable time \`${String(event.at)}\``);
  }
  const out: Record<string, unknown> = {
    sessionId: scrubString(event.sessionId),
    seq: event.seq,
    kind: scrubString(String(event.kind)),
    at: new Date(time).toISOString(),
  };
  for (const field of OPTIONAL_FIELDS) {
    const raw = (event as unknown as Record<string, unknown>)[field];
    if (raw === undefined || raw === null) continue;
    if (NUMBER_FIELDS.has(field)) {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) continue;
      if (field === 'proposalSeq' && !(Number.isSafeInteger(raw) && raw >= 0 && raw <= MAX_INT4)) {
        throw new AuditInputError(`event ${event.seq} of session \`${event.sessionId}\` has a proposalSeq that is not a whole number from 0 to 2147483647: \`${raw}\``);
      }
      out[field] = raw === 0 ? 0 : raw; // -0 is stored (and read back) as 0
    } else if (JSON_FIELDS.has(field)) {
      let text = JSON.stringify(raw);
      if (text === undefined) continue;
      let value: unknown = JSON.parse(text);
      if (UNSTORABLE_IN_JSON.test(text)) {
        value = scrub(value);
        text = JSON.stringify(value);
      }
      out[field] = value;
    } else {
      out[field] = scrubString(String(raw));
    }
  }
  return out as unknown as AuditEventInput;
}

/** The hash of an already-normalized event chained after `prevHash`. */
export function eventHash(prevHash: string, normalized: AuditEventInput): string {
  return sha256Hex(prevHash + canonicalJson(normalized));
}

/** One link of a chain: the event with the hashes that bind it to its session's history. */
export interface ChainedEvent {
  readonly event: AuditEventInput;
  readonly prevHash: string;
  readonly hash: string;
}

/** Where a chain stops holding: the first event whose link does not verify. */
export interface BrokenLink {
  readonly sessionId: string;
  readonly seq: number;
  /** `hash`: the event's content does not hash to its stored hash (it was edited);
   * `prev-hash`: it does not point at its predecessor's hash (a row before it changed or vanished);
   * `sequence`: a seq is missing or out of order (a row was deleted or inserted). */
  readonly problem: 'hash' | 'prev-hash' | 'sequence';
  readonly expected: string;
  readonly actual: string;
}

/**
 * Checks one session's chain, events in stored order. Returns the first broken link, or
 * undefined when every link holds.
 */
export function checkChain(sessionId: string, links: readonly ChainedEvent[]): BrokenLink | undefined {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const link of links) {
    const seq = link.event.seq;
    if (seq !== expectedSeq) {
      return { sessionId, seq, problem: 'sequence', expected: `seq ${expectedSeq}`, actual: `seq ${seq}` };
    }
    if (link.prevHash !== prev) {
      return { sessionId, seq, problem: 'prev-hash', expected: prev, actual: link.prevHash };
    }
    const recomputed = eventHash(link.prevHash, normalizeEvent(link.event));
    if (recomputed !== link.hash) {
      return { sessionId, seq, problem: 'hash', expected: recomputed, actual: link.hash };
    }
    prev = link.hash;
    expectedSeq += 1;
  }
  return undefined;
}
