/**
 * Canonical JSON and sha256, pure JavaScript so that workflow code can hash policies and
 * events without Node built-ins. Every canonical form in Gatehouse comes from `canonicalJson`;
 * Node-side code (the audit chain) takes the same sha256 digest from `node:crypto`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** Lower-case hex sha256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/**
 * JSON with object keys sorted at every level and no whitespace, so equal values always give
 * equal text. `undefined` fields are dropped (as JSON.stringify does); non-finite numbers become
 * `null`; arrays keep their order. Iterative (an explicit stack, not recursion), so a value of any
 * depth gives its text instead of overflowing the call stack; a cyclic value throws a `TypeError`.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const open = new Set<object>();
  // Writes a scalar's text or opens a container; false when the value is dropped (like `undefined`).
  const begin = (v: unknown): boolean => {
    const r = resolve(v);
    if (r === undefined) return false;
    if (typeof r === 'string') {
      out.push(r);
      return true;
    }
    if (open.has(r)) throw new TypeError('canonical json: the value is cyclic');
    open.add(r);
    if (Array.isArray(r)) {
      out.push('[');
      stack.push({ kind: 'array', container: r, items: r, i: 0 });
    } else {
      out.push('{');
      stack.push({ kind: 'object', container: r, record: r, keys: Object.keys(r).sort(), i: 0, written: 0 });
    }
    return true;
  };
  if (!begin(value)) return 'null';
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.kind === 'array') {
      if (f.i >= f.items.length) {
        out.push(']');
        close(f);
        continue;
      }
      if (f.i > 0) out.push(',');
      if (!begin(f.items[f.i++])) out.push('null');
    } else {
      if (f.i >= f.keys.length) {
        out.push('}');
        close(f);
        continue;
      }
      const key = f.keys[f.i++]!;
      const mark = out.length;
      out.push(`${f.written > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      // A dropped member takes its key (and comma) with it.
      if (begin(f.record[key])) f.written += 1;
      else out.length = mark;
    }
  }
  return out.join('');

  function close(f: Frame): void {
    stack.pop();
    open.delete(f.container);
  }
}

type Frame =
  | { readonly kind: 'array'; readonly container: object; readonly items: readonly unknown[]; i: number }
  | { readonly kind: 'object'; readonly container: object; readonly record: Record<string, unknown>; readonly keys: readonly string[]; i: number; written: number };

/** How many `toJSON` results are followed before giving up (a chain that never ends). */
const MAX_TO_JSON = 100;

/** A scalar's text, a container to walk, or `undefined` for what JSON drops (functions, symbols, undefined). */
function resolve(value: unknown): string | unknown[] | Record<string, unknown> | undefined {
  let v = value;
  for (let n = 0; ; n++) {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'number':
        return Number.isFinite(v) ? JSON.stringify(v) : 'null';
      case 'boolean':
        return v ? 'true' : 'false';
      case 'bigint':
        return v.toString();
      case 'object': {
        const withJson = v as { toJSON?: () => unknown };
        if (typeof withJson.toJSON !== 'function') return v as unknown[] | Record<string, unknown>;
        if (n >= MAX_TO_JSON) throw new TypeError(`canonical json: more than ${MAX_TO_JSON} nested \`toJSON\` results`);
        v = withJson.toJSON();
        continue;
      }
      default:
        return undefined;
    }
  }
}
