/**
 * The id a JSON-RPC response over the size limit answers, read from the first and last bytes of
 * its line (`bounded-lines.ts` keeps only those): a careful scan of the top-level members at each end.
 */
import type { RequestId } from './size-limit';

interface Members {
  /** Top-level keys seen, in order. */
  readonly keys: string[];
  /** The top-level `id` when it is a string or a number; `null` when it is there and neither. */
  id?: RequestId | null;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const SCALAR = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$/;
const SCALAR_AT = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/**
 * The id a JSON-RPC response answers, from the first and last bytes of its line (the middle is
 * gone), or undefined. The SDK writes `id` last, others first: both ends are read, each only as
 * far as it is certain a member is of the top-level object. Only a response (a top-level
 * `result` or `error`, no `method`) gives an id: a server's own request has ids of its own.
 */
export function answeredId(head: string, tail: string): RequestId | undefined {
  const a = headMembers(head);
  const b = tailMembers(tail);
  const keys = new Set([...a.keys, ...b.keys]);
  if (keys.has('method') || !(keys.has('result') || keys.has('error'))) return undefined;
  if (a.id === null || b.id === null) return undefined;
  if (a.id !== undefined && b.id !== undefined && a.id !== b.id) return undefined;
  return a.id ?? b.id;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i]!)) i++;
  return i;
}

function skipWsBack(s: string, i: number): number {
  while (i >= 0 && WS.has(s[i]!)) i--;
  return i;
}

/** `token` parsed as JSON, or undefined. */
export function parsed(token: string): unknown {
  try {
    return JSON.parse(token) as unknown;
  } catch {
    return undefined;
  }
}

function idOf(token: string): RequestId | null {
  const v = parsed(token);
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : null;
}

/** The end (exclusive) of the string starting at `i`, or undefined when it is not whole in `s`. */
function stringEnd(s: string, i: number): number | undefined {
  if (s[i] !== '"') return undefined;
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j + 1;
  }
  return undefined;
}

/** The end (exclusive) of the JSON value starting at `i`, or undefined when it is not whole in `s`. */
function valueEnd(s: string, i: number): number | undefined {
  const c = s[i];
  if (c === '"') return stringEnd(s, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s[j];
      if (d === '"') {
        const end = stringEnd(s, j);
        if (end === undefined) return undefined;
        j = end - 1;
      } else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return undefined;
  }
  SCALAR_AT.lastIndex = i;
  const m = SCALAR_AT.exec(s);
  return m ? i + m[0].length : undefined;
}

/** The top-level members at the start of a JSON object, read forwards as far as they are whole. */
function headMembers(s: string): Members {
  const out: Members = { keys: [] };
  let i = skipWs(s, 0);
  if (s[i] !== '{') return out;
  i = skipWs(s, i + 1);
  for (;;) {
    const keyEnd = stringEnd(s, i);
    if (keyEnd === undefined) return out;
    const key = parsed(s.slice(i, keyEnd));
    i = skipWs(s, keyEnd);
    if (typeof key !== 'string' || s[i] !== ':') return out;
    out.keys.push(key); // known a member even when its value runs past the head
    i = skipWs(s, i + 1);
    const end = valueEnd(s, i);
    if (end === undefined) return out;
    const after = skipWs(s, end);
    if (after >= s.length) return out; // a number could go on past the head
    if (key === 'id') out.id = idOf(s.slice(i, end));
    if (s[after] !== ',') return out;
    i = skipWs(s, after + 1);
  }
}

/**
 * Where the string whose closing quote is at `close` opens, or undefined when that cannot be told
 * from `s` (a quote is a delimiter when an even number of backslashes precede it, and the
 * character before that run must be in `s`).
 */
function stringStartBack(s: string, close: number): number | undefined {
  const delimiter = (q: number): boolean | undefined => {
    let k = q - 1;
    while (k >= 0 && s[k] === '\\') k--;
    if (k < 0) return undefined;
    return (q - 1 - k) % 2 === 0;
  };
  if (s[close] !== '"' || delimiter(close) !== true) return undefined;
  for (let p = s.lastIndexOf('"', close - 1); p >= 0; p = s.lastIndexOf('"', p - 1)) {
    const d = delimiter(p);
    if (d === undefined) return undefined;
    if (d) return p;
  }
  return undefined;
}

/**
 * The top-level members at the end of a JSON object, read backwards from its closing brace while
 * their values are strings, numbers or literals and each member is whole, delimiter included.
 */
function tailMembers(s: string): Members {
  const out: Members = { keys: [] };
  let i = skipWsBack(s, s.length - 1);
  if (s[i] !== '}') return out;
  i = skipWsBack(s, i - 1);
  for (;;) {
    let valueStart: number | undefined;
    if (s[i] === '"') valueStart = stringStartBack(s, i);
    else {
      let k = i;
      while (k >= 0 && /[0-9a-zA-Z.+-]/.test(s[k]!)) k--;
      valueStart = k + 1 <= i && SCALAR.test(s.slice(k + 1, i + 1)) ? k + 1 : undefined;
    }
    if (valueStart === undefined) return out;
    const colon = skipWsBack(s, valueStart - 1);
    if (colon < 0 || s[colon] !== ':') return out;
    const keyClose = skipWsBack(s, colon - 1);
    if (keyClose < 0) return out;
    const keyStart = stringStartBack(s, keyClose);
    if (keyStart === undefined) return out;
    const before = skipWsBack(s, keyStart - 1);
    if (before < 0 || (s[before] !== ',' && s[before] !== '{')) return out;
    const key = parsed(s.slice(keyStart, keyClose + 1));
    if (typeof key !== 'string') return out;
    out.keys.push(key);
    if (key === 'id') out.id = idOf(s.slice(valueStart, i + 1));
    if (s[before] === '{') return out;
    i = skipWsBack(s, before - 1);
  }
}
