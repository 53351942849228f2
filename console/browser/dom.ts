/** The page code's small kit: DOM building, the JSON API with the CSRF token, the status line, the signed-in person. */

import { shownText } from '../../approvals/shown-text';

export const $ = (sel: string): HTMLElement => document.querySelector(sel) as HTMLElement;
let csrf = '';

/**
 * An element with attributes and children. Text children are often an agent's (an intent, a
 * tool name, arguments): a bidi override or an invisible character in them is shown as a
 * `\uXXXX` escape, never drawn (`approvals/shown-text.ts`).
 */
export function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string | undefined)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== undefined) e.append(typeof c === 'string' ? shownText(c) : c);
  return e;
}

/** A time in the reader's locale, its narrow no-break spaces (`10:05\u202fAM`) made plain ones: our text, not an agent's. */
export function localTime(iso: string): string {
  return new Date(iso).toLocaleString().replace(/\p{Zs}/gu, ' ');
}

export async function api(path: string, body?: unknown): Promise<any> {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(csrf ? { 'x-gatehouse-csrf': csrf } : {}) },
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(json.message ?? `http ${res.status}`), { code: json.code ?? String(res.status), issues: json.issues });
  return json;
}

export function status(text: string, kind: 'ok' | 'error' = 'ok'): void {
  const s = $('#status');
  s.textContent = text;
  s.className = kind;
}

/** The signed-in person (and the page's CSRF token), or a trip to `/signin`. */
export async function signedIn(): Promise<{ principal: string; role: string } | undefined> {
  try {
    const me = await api('/api/me');
    csrf = me.csrf;
    $('#me').textContent = `${me.principal} (${me.role})`;
    return me;
  } catch {
    location.assign('/signin');
    return undefined;
  }
}

/** Server-rendered SVG (escaped on the server) placed in `host`. */
export function svgInto(host: HTMLElement, svg: string): void {
  host.innerHTML = svg;
}

export function ms(n: number): string {
  if (n < 1000) return `${Math.round(n)} ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(1)} s`;
  const s = Math.round(n / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}
