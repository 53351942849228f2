/**
 * `loadSessionContext`: what a session snapshots when it starts, and the gate on who may start
 * one. Identity comes from the agent credential (signature, expiry, revocation list) — a
 * sub-agent's from its genuine parent's spawn record (`parent-record.ts`) — never from the start
 * input; the policy comes from the worker's registry of named policies, never from the caller; the keyset the session will verify signed decisions against is the worker's. A refused
 * start raises an alert and fails the workflow with the non-retryable `SessionStartRefusedError`.
 *
 * The workflow compiles the returned document itself, so replays re-derive every decision from
 * the snapshot recorded in its history. Node-only.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { shownLineAtMost } from '../approvals/shown-text';
import type { AuditStore } from '../audit/store';
import type { RevocationStore } from '../audit/credentials';
import { verifyAgentCredential } from '../client/trust/credentials';
import type { PolicyDocument } from '../policies/document';
import type { Keyset } from '../policies/trust';
import type { LoadSessionContextInput, SessionContext, StartRefusal } from './types';
import { describeCatalog, type ToolCatalog } from './tools/catalog';
import { readSpawnRecord } from './parent-record';
import { hasSubSessionForm, SESSION_ID_PATTERN } from '../policies/agent-id';
import { SESSION_ERROR_TYPES } from '../workflows/contract';

/** Error type of a refused session start (non-retryable: the same input fails the same way). */
export const SESSION_START_REFUSED = SESSION_ERROR_TYPES.startRefused;

/** Longest value of the start (an agent id, an owner, a session id, a policy name) a refusal quotes: an agent chooses them. */
const MAX_SHOWN = 200;
/** Longest refusal message: it names several such values, and a credential's key id an agent also chose. */
const MAX_REFUSAL = 1_000;

/**
 * A value the start named, as a refusal quotes it: one line, its hidden characters escaped, at most
 * `MAX_SHOWN` characters. The refusal reaches the `alerts` row and the SDK's log of the failed
 * activity, read in an operator's terminal.
 */
function shown(value: string): string {
  return shownLineAtMost(value, MAX_SHOWN);
}

export interface SessionContextDeps {
  /** Named policies the worker loaded (already parsed); `defaultPolicy` names the one used when a start names none. */
  readonly policies: Readonly<Record<string, PolicyDocument>>;
  readonly defaultPolicy: string;
  readonly keyset: Keyset;
  readonly catalog: ToolCatalog;
  readonly revocations: Pick<RevocationStore, 'isRevoked'>;
  readonly alerts: Pick<AuditStore, 'raiseAlert'>;
  /** The credential kept under a start ticket (`audit/start-tickets.ts`), or undefined. */
  readonly tickets?: (ticket: string, sessionId: string) => Promise<string | undefined>;
  /** @default Date.now */
  readonly now?: () => number;
  /** The client a sub-agent's start reads its parent's record with. @default the worker's (`Context.current().client`) */
  readonly client?: () => Client;
  /**
   * History events after which a session run continues as new (the worker's, never the caller's):
   * a number, or asked at each start (the worker's cache, `worker/session-bound.ts`); undefined
   * leaves the workflow's `SHORT_HISTORY_LIMIT`.
   */
  readonly historyLimit?: number | (() => number | undefined);
}

export function createSessionContextActivities(deps: SessionContextDeps) {
  // Upstream MCP servers change the catalog while the worker runs: a session snapshots the catalog of its start.
  let described = { version: deps.catalog.version, descriptors: describeCatalog(deps.catalog) };
  const currentDescriptors = () => {
    if (described.version !== deps.catalog.version) described = { version: deps.catalog.version, descriptors: describeCatalog(deps.catalog) };
    return described.descriptors;
  };
  const now = deps.now ?? Date.now;
  // Own names only: `constructor` or `__proto__` must not find what every object inherits.
  const policyNamed = (name: string): PolicyDocument | undefined => (Object.hasOwn(deps.policies, name) ? deps.policies[name] : undefined);
  const bound = (): { historyLimit?: number } => {
    const limit = typeof deps.historyLimit === 'function' ? deps.historyLimit() : deps.historyLimit;
    return limit !== undefined ? { historyLimit: limit } : {};
  };

  /**
   * Records the refusal as an alert of the session id it was aimed at, then fails the start. Its
   * message is shown as one bounded line whoever built it (a credential's unknown key id is the agent's).
   */
  async function refuse(sessionId: string, refusal: StartRefusal): Promise<never> {
    const r = { ...refusal, message: shownLineAtMost(refusal.message, MAX_REFUSAL) };
    await deps.alerts.raiseAlert(sessionId, r.rule, `session start refused: ${r.message}`, new Date(now()).toISOString());
    throw ApplicationFailure.nonRetryable(`session start refused: ${r.message}`, SESSION_START_REFUSED, r);
  }

  /** A sub-agent's context: its genuine parent's spawn record, its root credential still not revoked. */
  async function fromParent(sessionId: string): Promise<SessionContext> {
    const ctx = Context.current();
    const client = deps.client?.() ?? ctx.client;
    const run = ctx.info.workflowExecution;
    if (!run) return refuse(sessionId, { rule: 'start.parent', message: 'a sub-agent\'s context is read only by its own workflow' });
    const { workflowId, runId } = run;
    const found = await readSpawnRecord(client, { workflowId, runId, taskQueue: ctx.info.taskQueue });
    if (!found.ok) return refuse(sessionId, found.refusal);
    const r = found.record;
    // A root credential revoked since the root session started stops its tree from growing.
    if (await deps.revocations.isRevoked(r.principal, r.credentialIssuedAt ?? new Date(0).toISOString())) {
      return refuse(sessionId, { rule: 'credential.revoked', message: `the credential of agent \`${shown(r.principal)}\`, the root of sub-agent \`${shown(r.agentId)}\`, was revoked` });
    }
    const policyDocument = policyNamed(r.policyRef);
    if (!policyDocument) return refuse(sessionId, { rule: 'start.policy-ref', message: `no policy \`${shown(r.policyRef)}\` is loaded by the worker` });
    return {
      policyName: r.policyRef,
      policyDocument,
      descriptors: currentDescriptors(),
      keyset: deps.keyset,
      identity: {
        agentId: r.agentId,
        owner: r.owner,
        principal: r.principal,
        ...(r.credentialId ? { credentialId: r.credentialId } : {}),
        ...(r.credentialIssuedAt ? { credentialIssuedAt: r.credentialIssuedAt } : {}),
      },
      spawn: {
        parentSessionId: r.parentSessionId,
        intent: r.intent,
        budget: r.budget,
        ...(r.mandate ? { mandate: r.mandate } : {}),
        ...(r.inheritedTransitions !== undefined ? { inheritedTransitions: r.inheritedTransitions } : {}),
        ...(r.inheritedRates !== undefined ? { inheritedRates: r.inheritedRates } : {}),
      },
      ...bound(),
    };
  }

  return {
    async loadSessionContext(input: LoadSessionContextInput): Promise<SessionContext> {
      const sessionId = input.sessionId;
      if (input.policyDocumentGiven) {
        return refuse(sessionId, { rule: 'start.policy-document', message: 'a start input may not carry a policy document: the worker chooses the policy (name one with `policyRef` where the credential allows it)' });
      }
      if (input.fromParent || input.child !== undefined) return fromParent(sessionId);
      const credential = input.credentialTicket !== undefined ? await deps.tickets?.(input.credentialTicket, sessionId) : input.credential;
      if (input.credentialTicket !== undefined && credential === undefined) {
        return refuse(sessionId, { rule: 'start.credential-ticket', message: 'the start names a credential ticket the worker cannot read (unknown or expired): start again' });
      }
      const checked = await verifyAgentCredential(credential, deps.keyset, now());
      if (!checked.ok) return refuse(sessionId, { rule: checked.rule, message: checked.message });
      const c = checked.credential;
      if (await deps.revocations.isRevoked(c.agentId, c.issuedAt)) {
        return refuse(sessionId, { rule: 'credential.revoked', message: `the credential of agent \`${shown(c.agentId)}\` was revoked` });
      }
      if (input.agentId !== undefined && input.agentId !== c.agentId) {
        return refuse(sessionId, { rule: 'start.identity', message: `the start names agent \`${shown(input.agentId)}\` but the credential is agent \`${shown(c.agentId)}\`'s` });
      }
      if (input.owner !== undefined && input.owner !== c.owner) {
        return refuse(sessionId, { rule: 'start.identity', message: `the start names owner \`${shown(input.owner)}\` but the credential says \`${shown(c.owner)}\`` });
      }
      // A session's ledger keys are `<sessionId>:<key>`: an id with a `:` (or outside the gateway's
      // alphabet) could spell another session's keys (`a` + `b:k` = `a:b` + `k`).
      if (!SESSION_ID_PATTERN.test(sessionId)) {
        return refuse(sessionId, { rule: 'start.session-id', message: `session id \`${shown(sessionId)}\` must be 1 to 120 letters, digits or \`._-\`, with a letter or digit` });
      }
      // `<parent>.<n>` is a parent's to give: a top-level start taking one would squat a sub-agent's id.
      if (hasSubSessionForm(sessionId)) {
        return refuse(sessionId, { rule: 'start.session-id', message: `session id \`${shown(sessionId)}\` has the form of a sub-session's (\`<parent>.<n>\`), which only a parent session chooses` });
      }
      const policyName = input.policyRef ?? deps.defaultPolicy;
      const policyDocument = policyNamed(policyName);
      if (!policyDocument) return refuse(sessionId, { rule: 'start.policy-ref', message: `no policy \`${shown(policyName)}\` is loaded by the worker` });
      if (policyName !== deps.defaultPolicy && !c.policies.includes(policyName)) {
        return refuse(sessionId, { rule: 'start.policy-ref', message: `the credential of agent \`${shown(c.agentId)}\` does not allow policy \`${shown(policyName)}\`` });
      }
      const identity = { agentId: c.agentId, owner: c.owner, principal: c.agentId, credentialId: c.credentialId, credentialIssuedAt: c.issuedAt };
      return { policyName, policyDocument, descriptors: currentDescriptors(), keyset: deps.keyset, identity, ...bound() };
    },

    /** A start the workflow itself refused (forged carried state, a parent it does not have). */
    async refuseSessionStart(sessionId: string, refusal: StartRefusal): Promise<never> {
      return refuse(sessionId, refusal);
    },
  };
}
