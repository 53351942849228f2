/**
 * `loadSessionContext`: what a session snapshots when it starts, and the gate on who may start
 * one. Identity comes from the agent credential (signature, expiry, revocation list), never from
 * the start input; the policy comes from the worker's registry of named policies, never from the
 * caller; the keyset the session will verify signed decisions against is the worker's. A refused
 * start raises an alert and fails the workflow with the non-retryable `SessionStartRefusedError`.
 *
 * The workflow compiles the returned document itself, so replays re-derive every decision from
 * the snapshot recorded in its history. Node-only.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { AuditStore } from '../audit/store';
import type { RevocationStore } from '../audit/credentials';
import { verifyAgentCredential } from '../client/trust/credentials';
import type { PolicyDocument } from '../policies/document';
import type { Keyset } from '../policies/trust';
import type { LoadSessionContextInput, SessionContext, StartRefusal } from './types';
import { describeCatalog, type ToolCatalog } from './tools/catalog';
import { SESSION_ERROR_TYPES } from '../workflows/contract';

/** Error type of a refused session start (non-retryable: the same input fails the same way). */
export const SESSION_START_REFUSED = SESSION_ERROR_TYPES.startRefused;

export interface SessionContextDeps {
  /** Named policies the worker loaded (already parsed); `defaultPolicy` names the one used when a start names none. */
  readonly policies: Readonly<Record<string, PolicyDocument>>;
  readonly defaultPolicy: string;
  readonly keyset: Keyset;
  readonly catalog: ToolCatalog;
  readonly revocations: Pick<RevocationStore, 'isRevoked'>;
  readonly alerts: Pick<AuditStore, 'raiseAlert'>;
  /** @default Date.now */
  readonly now?: () => number;
}

export function createSessionContextActivities(deps: SessionContextDeps) {
  // Upstream MCP servers change the catalog while the worker runs: a session snapshots the catalog of its start.
  let described = { version: deps.catalog.version, descriptors: describeCatalog(deps.catalog) };
  const currentDescriptors = () => {
    if (described.version !== deps.catalog.version) described = { version: deps.catalog.version, descriptors: describeCatalog(deps.catalog) };
    return described.descriptors;
  };
  const now = deps.now ?? Date.now;

  /** Records the refusal as an alert of the session id it was aimed at, then fails the start. */
  async function refuse(sessionId: string, r: StartRefusal): Promise<never> {
    await deps.alerts.raiseAlert(sessionId, r.rule, `session start refused: ${r.message}`, new Date(now()).toISOString());
    throw ApplicationFailure.nonRetryable(`session start refused: ${r.message}`, SESSION_START_REFUSED, r);
  }

  return {
    async loadSessionContext(input: LoadSessionContextInput): Promise<SessionContext> {
      const sessionId = input.sessionId;
      if (input.policyDocumentGiven) {
        return refuse(sessionId, { rule: 'start.policy-document', message: 'a start input may not carry a policy document: the worker chooses the policy (name one with `policyRef` where the credential allows it)' });
      }
      let agentId: string;
      let owner: string;
      let principal: string;
      let allowed: readonly string[];
      let credentialId: string | undefined;
      if (input.child) {
        // The workflow checked with Temporal that it really has this parent.
        ({ agentId, owner, principal } = input.child);
        allowed = [input.child.policyRef];
      } else {
        const checked = await verifyAgentCredential(input.credential, deps.keyset, now());
        if (!checked.ok) return refuse(sessionId, { rule: checked.rule, message: checked.message });
        const c = checked.credential;
        if (await deps.revocations.isRevoked(c.agentId, c.issuedAt)) {
          return refuse(sessionId, { rule: 'credential.revoked', message: `the credential of agent \`${c.agentId}\` was revoked` });
        }
        if (input.agentId !== undefined && input.agentId !== c.agentId) {
          return refuse(sessionId, { rule: 'start.identity', message: `the start names agent \`${input.agentId}\` but the credential is agent \`${c.agentId}\`'s` });
        }
        if (input.owner !== undefined && input.owner !== c.owner) {
          return refuse(sessionId, { rule: 'start.identity', message: `the start names owner \`${input.owner}\` but the credential says \`${c.owner}\`` });
        }
        ({ agentId, owner, credentialId } = { agentId: c.agentId, owner: c.owner, credentialId: c.credentialId });
        principal = c.agentId;
        allowed = c.policies;
      }
      const policyName = input.policyRef ?? (input.child ? input.child.policyRef : deps.defaultPolicy);
      const policyDocument = deps.policies[policyName];
      if (!policyDocument) return refuse(sessionId, { rule: 'start.policy-ref', message: `no policy \`${policyName}\` is loaded by the worker` });
      if (policyName !== deps.defaultPolicy && !allowed.includes(policyName)) {
        return refuse(sessionId, { rule: 'start.policy-ref', message: `the credential of agent \`${agentId}\` does not allow policy \`${policyName}\`` });
      }
      return { policyName, policyDocument, descriptors: currentDescriptors(), keyset: deps.keyset, identity: { agentId, owner, principal, ...(credentialId ? { credentialId } : {}) } };
    },

    /** A start the workflow itself refused (forged carried state, a parent it does not have). */
    async refuseSessionStart(sessionId: string, refusal: StartRefusal): Promise<never> {
      return refuse(sessionId, refusal);
    },
  };
}
