/**
 * The cross-session ledger's names: one `gatehouseLedger` workflow per agent (`ledger-agent-<agent>`)
 * and per owner (`ledger-owner-<owner>`), its one update and its query. Only the worker's
 * `reserveAcrossSessions` activity sends `reserve`, and its `returnLeases` hands back what a session
 * leased and did not spend (never more: a lease is returned once, and only its own calls); no
 * update resets anything.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { LeaseReturnRequest, LedgerRequest, LedgerResult, LedgerScope, LedgerState } from '../policies/ledger';

/** Workflow type of a cross-session ledger. */
export const LEDGER_WORKFLOW_TYPE = 'gatehouseLedger';

const PREFIX = 'ledger-';

/** Workflow id of the ledger of one agent or one owner. */
export function ledgerWorkflowId(scope: LedgerScope, key: string): string {
  return `${PREFIX}${scope}-${key}`;
}

/** The scope and key a ledger workflow id names, or `undefined` for any other id. */
export function parseLedgerWorkflowId(id: string): { readonly scope: LedgerScope; readonly key: string } | undefined {
  for (const scope of ['agent', 'owner'] as const) {
    const prefix = `${PREFIX}${scope}-`;
    if (id.startsWith(prefix) && id.length > prefix.length) return { scope, key: id.slice(prefix.length) };
  }
  return undefined;
}

/** Start input of a ledger: nothing a starter can choose but the history limit. */
export interface LedgerStartInput {
  /** @default 5000 events; Temporal's own suggestion also triggers continue-as-new */
  readonly historyLimit?: number;
}

/** What a ledger carries to its next run (accepted only from a real continue-as-new). */
export interface CarriedLedger {
  readonly state: LedgerState;
}

/** The `ledger` query: counts per rule entry, for operators and tests. */
export interface LedgerView {
  readonly scope: LedgerScope;
  readonly key: string;
  readonly budgets: Readonly<Record<string, number>>;
  readonly transitions: number;
  readonly reservations: number;
  readonly runs: number;
  /** Leases outstanding (taken and not handed back). */
  readonly leases?: number;
}

export const LEDGER_ERROR_TYPES = {
  /** A ledger started under an id that is not a ledger's, or with carried state it did not carry. */
  startRefused: 'LedgerStartRefusedError',
  /** A `reserve` that is not a reservation request (the validator's rejection). */
  invalidRequest: 'InvalidLedgerRequestError',
} as const;

export const reserveUpdate = defineUpdate<LedgerResult, [LedgerRequest]>('reserve');
export const ledgerQuery = defineQuery<LedgerView>('ledger');
/** Hands back a session's leases (at its end, or before it continues as new); answers how many it knew. */
export const returnLeasesUpdate = defineUpdate<{ readonly returned: number }, [LeaseReturnRequest]>('returnLeases');
