/**
 * Start tickets: a session start's agent credential, held in the audit database under a random
 * ticket for a few minutes, so that the start input — and every workflow history, which operators,
 * the Temporal UI and anyone with read access to the namespace see — names the ticket, never the
 * bearer token (which would let its reader act as that agent). The gateway puts; the worker's
 * `loadSessionContext` takes. Node-only.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';

/** How long a ticket can be redeemed: a start is read within seconds, retries within minutes. */
export const START_TICKET_TTL_MINUTES = 10;

/** Keeps `credential` for the start of session `sessionId` under a new ticket; drops expired tickets on the way. */
export async function putStartTicket(pool: Pool, credential: string, sessionId: string): Promise<string> {
  const ticket = `st-${randomBytes(32).toString('base64url')}`;
  await pool.query(
    `WITH gone AS (DELETE FROM start_tickets WHERE created_at < now() - make_interval(mins => $4))
     INSERT INTO start_tickets (ticket, session_id, credential) VALUES ($1, $2, $3)`,
    [ticket, sessionId, credential, START_TICKET_TTL_MINUTES],
  );
  return ticket;
}

/**
 * The credential of an unexpired ticket kept for session `sessionId`, or undefined: a ticket read
 * from one session's history starts no other. It may be read again (a retried start).
 */
export async function readStartTicket(pool: Pool, ticket: string, sessionId: string): Promise<string | undefined> {
  const r = await pool.query<{ credential: string }>(
    'SELECT credential FROM start_tickets WHERE ticket = $1 AND session_id = $2 AND created_at >= now() - make_interval(mins => $3)',
    [ticket, sessionId, START_TICKET_TTL_MINUTES],
  );
  return r.rows[0]?.credential;
}

/** Drops a ticket once its start is answered: no credential rests here longer than a start. */
export async function dropStartTicket(pool: Pool, ticket: string): Promise<void> {
  await pool.query('DELETE FROM start_tickets WHERE ticket = $1', [ticket]);
}

/** What `Gatehouse.connect({ credentialTickets })` takes: the tickets of one audit database. */
export function startTickets(pool: Pool): { put(credential: string, sessionId: string): Promise<string>; drop(ticket: string): Promise<void> } {
  return { put: (credential, sessionId) => putStartTicket(pool, credential, sessionId), drop: (ticket) => dropStartTicket(pool, ticket) };
}
