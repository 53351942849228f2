/**
 * Signed-in people: an opaque random cookie (`HttpOnly`, `SameSite=Strict`, `Secure` under TLS,
 * path `/`) names a server-side session holding the person, role and passkey, and a CSRF token the
 * page sends back in the `x-gatehouse-csrf` header of every state-changing request. Sessions live
 * in this process's memory (one console per stack): a restart signs everyone out.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ConsoleError } from './errors';
import type { ConsoleRole } from './store';

export const COOKIE = 'gatehouse_console';
export const CSRF_HEADER = 'x-gatehouse-csrf';
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

export interface Person {
  readonly principal: string;
  readonly role: ConsoleRole;
  readonly credentialId: string;
  readonly keyId: string;
  readonly csrf: string;
  readonly until: number;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Reads one cookie from a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export class PersonSessions {
  #sessions = new Map<string, Person>();

  constructor(private readonly secure: boolean) {}

  /** Starts a session; returns the `Set-Cookie` value and the person. */
  open(p: Omit<Person, 'csrf' | 'until'>): { cookie: string; person: Person } {
    const id = randomBytes(32).toString('base64url');
    const person: Person = { ...p, csrf: randomBytes(24).toString('base64url'), until: Date.now() + SESSION_TTL_MS };
    this.#sessions.set(id, person);
    return { cookie: `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${this.secure ? '; Secure' : ''}`, person };
  }

  close(cookieHeader: string | undefined): string {
    const id = cookieValue(cookieHeader, COOKIE);
    if (id) this.#sessions.delete(id);
    return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.secure ? '; Secure' : ''}`;
  }

  /** The signed-in person, or undefined (no cookie, unknown or expired session). */
  find(cookieHeader: string | undefined): Person | undefined {
    const id = cookieValue(cookieHeader, COOKIE);
    const p = id ? this.#sessions.get(id) : undefined;
    if (!p) return undefined;
    if (p.until < Date.now()) {
      this.#sessions.delete(id!);
      return undefined;
    }
    return p;
  }

  /** The signed-in person of a request, or a 401. */
  require(cookieHeader: string | undefined): Person {
    const p = this.find(cookieHeader);
    if (!p) throw new ConsoleError(401, 'signed-out', 'sign in with your passkey first');
    return p;
  }

  /** A state-changing request: signed in, and the CSRF token of that session in the header. */
  requireWrite(cookieHeader: string | undefined, csrf: unknown): Person {
    const p = this.require(cookieHeader);
    if (typeof csrf !== 'string' || !sameText(csrf, p.csrf)) throw new ConsoleError(403, 'csrf', 'the request lacks the page\'s csrf token: reload the page');
    return p;
  }
}
