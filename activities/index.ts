/**
 * `createActivities`: every activity the session workflow calls, composed from their modules —
 * audit writes, the session context snapshot, the tool catalog's `prepareCall`/`runTool`, the
 * approval postings and the intent scorer, each behind the caller check (caller.ts: a genuine
 * session, about itself, or nothing runs). The worker registers the result; the workflow
 * proxies `SessionActivities` (types.ts) as a type only. Node-only.
 */
import type { Pool } from 'pg';
import type { webApi } from '@slack/bolt';
import { AuditStore } from '../audit/store';
import { RevocationStore } from '../audit/credentials';
import type { PolicyDocument } from '../policies/document';
import type { Keyset } from '../policies/trust/keyset';
import { ApprovalStore } from '../approvals/store';
import { createApprovalActivities, type ActivityLog } from './approvals';
import { createAuditActivities } from './audit';
import type { CallerCheck } from './caller';
import { guardActivities } from './caller-claims';
import { createLedgerActivities, type LedgerActivityDeps } from './ledger';
import { createTreeRootActivities } from './tree-root';
import { createIntentActivities, createIntentScorer, type IntentScorerConfig } from './intent';
import { createSessionContextActivities } from './session-context';
import { readStartTicket } from '../audit/start-tickets';
import type { ToolCatalog } from './tools/catalog';
import { createToolActivities } from './tools/activities';
import type { SessionActivities } from './types';

export type { SessionActivities } from './types';

/** Name of the worker's default policy when none is given. */
export const DEFAULT_POLICY_NAME = 'default';

export interface ActivityDeps {
  /** The Gatehouse database: audit trail, sessions, approvals. */
  readonly auditPool: Pool;
  /** The tools, bound to the production database they act on. */
  readonly catalog: ToolCatalog;
  /** The worker's default policy (a parsed document): used when a session names none. */
  readonly policy: PolicyDocument;
  /** Further named policies a credential may allow (`policyRef`). */
  readonly policies?: Readonly<Record<string, PolicyDocument>>;
  /** Name of the default policy. @default 'default' */
  readonly policyName?: string;
  /** The keys sessions verify signed decisions and agent credentials against. */
  readonly keyset: Keyset;
  /** Absent: approvals are stored and decided through the CLI, nothing is posted. */
  readonly slack?: webApi.WebClient;
  /** Intent scorer configuration; default from the environment (`intentConfigFromEnv`: the local scorer unless configured). */
  readonly intent?: IntentScorerConfig;
  readonly log?: ActivityLog;
  /** How cross-session ledgers are reached. @default the worker's client, the session's task queue */
  readonly ledger?: LedgerActivityDeps;
  /**
   * Who may call: every activity runs this check first (caller.ts). The worker always builds the
   * real one (`temporalCallerCheck`); only tests calling activities directly pass a double.
   */
  readonly caller: CallerCheck;
  /** History events after which a session run continues as new (`SessionContextDeps.historyLimit`). */
  readonly sessionHistoryLimit?: number | (() => number | undefined);
}

export function createActivities(deps: ActivityDeps): SessionActivities {
  const auditStore = new AuditStore(deps.auditPool);
  const approvalStore = new ApprovalStore(deps.auditPool);
  const tools = createToolActivities({
    catalog: deps.catalog,
    audit: {
      append: async (events) => {
        await auditStore.append(events);
      },
    },
  });
  const approvals = createApprovalActivities({ store: approvalStore, ...(deps.slack ? { slack: deps.slack } : {}), ...(deps.log ? { log: deps.log } : {}) });
  const intent = createIntentActivities(createIntentScorer(deps.intent), { catalog: deps.catalog });
  return guardActivities({
    ...createAuditActivities({ store: auditStore, catalog: deps.catalog }),
    ...createSessionContextActivities({
      policies: { ...deps.policies, [deps.policyName ?? DEFAULT_POLICY_NAME]: deps.policy },
      defaultPolicy: deps.policyName ?? DEFAULT_POLICY_NAME,
      keyset: deps.keyset,
      catalog: deps.catalog,
      revocations: new RevocationStore(deps.auditPool),
      alerts: auditStore,
      tickets: (ticket, sessionId) => readStartTicket(deps.auditPool, ticket, sessionId),
      ...(deps.sessionHistoryLimit !== undefined ? { historyLimit: deps.sessionHistoryLimit } : {}),
    }),
    prepareCall: tools.prepareCall,
    async runTool(input) {
      const ran = await tools.runTool(input);
      if (ran.status !== 'executed' || input.intent === undefined) return ran;
      // Arguments the workflow did not check first are sent as proposed: the scorer sees them redacted.
      const actions = input.checkFirst && ran.redactedArgs ? input.intent.actions.map((a, i, all) => (i === all.length - 1 ? { ...a, args: ran.redactedArgs } : a)) : input.intent.actions;
      try {
        return { ...ran, intentScore: (await intent.scoreIntent({ ...input.intent, actions })).score };
      } catch {
        // The call ran: a scorer that fails (a remote endpoint down) must not make it look failed.
        // Without a score the workflow asks `scoreIntent` itself, with retries.
        return ran;
      }
    },
    scoreIntent: intent.scoreIntent,
    compareIntents: intent.compareIntents,
    storeApproval: approvals.storeApproval,
    requestApproval: approvals.requestApproval,
    escalateApproval: approvals.escalateApproval,
    resolveApproval: approvals.resolveApproval,
    ...createLedgerActivities(deps.ledger),
    ...createTreeRootActivities(),
  }, deps.caller);
}
