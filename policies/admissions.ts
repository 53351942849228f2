/**
 * The open-session cap as a reservation, as a pure function: a root agent's admissions hold one
 * slot per session id, and a new id is admitted only while fewer than `cap` slots are held. The
 * `gatehouseAdmissions` workflow folds each request into this state one at a time, so concurrent
 * starts through any number of gateways cannot pass the cap together (no count-then-start).
 */

/** Session id → when its slot was taken (epoch ms, the admissions workflow's clock). */
export type AdmissionState = Readonly<Record<string, number>>;

/** One start asking for a slot. */
export interface AdmitRequest {
  readonly sessionId: string;
  /** The gateway's cap for this agent (the gateway is trusted; agents never reach Temporal in production). */
  readonly cap: number;
}

export type AdmitResult =
  /** `fresh` false: the id already held a slot (a retry, or a start of an id in use). */
  | { readonly admitted: true; readonly fresh: boolean }
  /** At the cap: the slots held, for the gateway to release those whose sessions are over. */
  | { readonly admitted: false; readonly held: readonly { readonly sessionId: string; readonly at: number }[] };

// Sub-agents are `<root>/<name>` and count under their root (one definition: agent-id.ts).
export { rootAgentOf } from './agent-id';

/** The highest open-session cap an admit request may carry (the gateway refuses a larger setting at start-up). */
export const MAX_SESSION_CAP = 100_000;

/** Why a value is not an admit request, or `undefined` (the update validator). */
export function admitRequestProblem(req: unknown): string | undefined {
  if (typeof req !== 'object' || req === null) return 'expected an admission request';
  const r = req as Record<string, unknown>;
  if (typeof r.sessionId !== 'string' || r.sessionId.length === 0 || r.sessionId.length > 200) return 'expected `sessionId` to be 1 to 200 characters';
  if (typeof r.cap !== 'number' || !Number.isInteger(r.cap) || r.cap < 0 || r.cap > MAX_SESSION_CAP) return `expected \`cap\` to be a whole number from 0 to ${MAX_SESSION_CAP}`;
  return undefined;
}

/** True when `req` would be refused: a new id while `cap` slots are held (the validator refuses it unrecorded). */
export function atCap(state: AdmissionState, req: AdmitRequest): boolean {
  return state[req.sessionId] === undefined && Object.keys(state).length >= req.cap;
}

/** Admits `req` at `now`, or answers the held slots when the cap is reached. */
export function admit(state: AdmissionState, req: AdmitRequest, now: number): { readonly state: AdmissionState; readonly result: AdmitResult } {
  if (state[req.sessionId] !== undefined) return { state, result: { admitted: true, fresh: false } };
  const held = Object.entries(state);
  if (held.length >= req.cap) return { state, result: { admitted: false, held: held.map(([sessionId, at]) => ({ sessionId, at })) } };
  return { state: { ...state, [req.sessionId]: now }, result: { admitted: true, fresh: true } };
}

/** Frees the slots of `sessionIds` (ended, crashed, or never started). */
export function release(state: AdmissionState, sessionIds: readonly string[]): AdmissionState {
  if (!sessionIds.some((id) => state[id] !== undefined)) return state;
  const next: Record<string, number> = { ...state };
  for (const id of sessionIds) delete next[id];
  return next;
}
