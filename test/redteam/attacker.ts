/**
 * The red team's shared kit. The attacker holds exactly what an agent holds: a Temporal client
 * connection (the SDK's, or the stock `temporal` CLI binary) and its own valid agent credential.
 * Everything else here is the defenders' instruments: a snapshot of the production rows, the
 * audit trail and alerts, `audit verify` with the keyset, and polls on conditions (never sleeps).
 */
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { connectTemporal } from '../../client/grpc-retry';
import type { Worker } from '@temporalio/worker';
import { Gatehouse, type SessionHandle } from '../../client';
import { generateSigningKey, type SigningKey } from '../../client/trust/key-files';
import { signDecision, type SignOptions } from '../../client/trust/sign';
import { formatVerifyReport, verifyDatabase } from '../../audit/verify';
import { RevocationStore } from '../../audit/credentials';
import { startGateway, type RunningGateway } from '../../gateway/start';
import type { GatewayLimits } from '../../gateway/limits';
import { signEnvelope, type SignedEnvelope } from '../../policies/trust';
import type { PolicyDocument } from '../../policies';
import { TEST_POLICY } from '../workflows/fixtures/catalog';
import { createHarness, testPolicy, type Harness } from '../workflows/harness';
import { getTestServers } from '../support/servers';
import { testTrust } from '../support/trust';
import { eventually } from '../support/eventually';
import { findTemporalCli } from '../../worker/devstack/temporal-binary';
import { sessionWorkflowId, type PendingApprovalView, type SessionStateView } from '../../workflows/contract';

export const trust = testTrust();

/** A policy like the test one with short deadlines: a pending approval expires in ~4 s. */
export function quickPolicy(): PolicyDocument {
  const base = structuredClone(TEST_POLICY);
  return testPolicy({
    approvers: {
      ...base.approvers,
      default: { groups: ['on-call', 'sre-leads'], timeoutMinutes: 0.07, escalateAfterMinutes: [0.06], fourEyes: true },
      rules: [{ tools: ['volumes.delete'], groups: ['sre-leads'], approversRequired: 2, timeoutMinutes: 0.07 }],
      transitionUnlock: { groups: ['sre-leads'], approversRequired: 1, timeoutMinutes: 0.07 },
    },
  });
}

/** What a policy document a forger would send looks like: everything destructive autonomous. */
export function permissivePolicyDocument(): Record<string, unknown> {
  const base = structuredClone(TEST_POLICY) as Record<string, unknown>;
  return {
    ...base,
    name: 'attacker',
    tiers: { read: { default: 'autonomous' }, write: { default: 'autonomous' }, destructive: { default: 'autonomous' } },
    alwaysBlocked: [],
    tools: {},
    transitions: [],
  };
}

export interface RedTeam {
  readonly h: Harness;
  readonly cliPath: string;
  /** A client as an attacking agent: its own valid credential and a Temporal connection. */
  agent(agentId: string, owner: string, options?: { policies?: readonly string[] }): Promise<Agent>;
  /** A raw SDK client on the same connection an agent has (no Gatehouse wrapper, no checks). */
  readonly raw: Client;
  /** Runs the stock `temporal` CLI against the test server. */
  cli(args: readonly string[]): Promise<CliResult>;
  close(): Promise<void>;
}

export interface Agent {
  readonly agentId: string;
  readonly owner: string;
  readonly token: string;
  readonly gh: Gatehouse;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * One harness and one worker (running in the background) per test file; the worker loads the
 * test policy as its default and `quick` (short deadlines) as a named policy. `sessionHistoryLimit`
 * is the worker's bound on a session run (the worker's option: no agent chooses it).
 */
export async function redTeam(area: string, policies: Record<string, PolicyDocument> = {}, options: { readonly sessionHistoryLimit?: number } = {}): Promise<RedTeam> {
  const h = await createHarness(`redteam_${area}`);
  const servers = await getTestServers();
  const cliPath = servers.temporalCliPath || (await findTemporalCli());
  // A grace period lets activities in flight at shutdown finish before the databases are dropped.
  const worker: Worker = await h.worker({ policies: { quick: quickPolicy(), ...policies }, ...options, workerOptions: { shutdownGraceTime: '10s' } });
  const running = worker.run();
  const connection = await connectTemporal({ address: h.address });
  const raw = new Client({ connection, namespace: h.namespace });
  const agents: Gatehouse[] = [];
  return {
    h,
    cliPath,
    raw,
    async agent(agentId, owner, options = {}) {
      const token = await trust.credential(agentId, owner, { ...(options.policies ? { policies: options.policies } : {}), expiresInSeconds: 3600 });
      const gh = await Gatehouse.connect({ address: h.address, namespace: h.namespace, taskQueue: h.taskQueue, token });
      agents.push(gh);
      return { agentId, owner, token, gh };
    },
    cli(args) {
      return new Promise((resolve) => {
        execFile(cliPath, [...args, '--address', h.address, '--namespace', h.namespace], { timeout: 60_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
      });
    },
    async close() {
      worker.shutdown();
      await running;
      for (const gh of agents) await gh.close();
      await connection.close();
      await h.close();
    },
  };
}

// ------------------------------------------------------------------ polling (conditions, not sleeps)

/** The pending approval of a session, once the `state` query shows one (optionally a given id). */
export function pendingApproval(s: SessionHandle, approvalId?: string): Promise<PendingApprovalView & { view: SessionStateView }> {
  return eventually(async () => {
    const view = await s.state();
    const p = view.pendingApprovals.find((a) => approvalId === undefined || a.approvalId === approvalId);
    return p ? { ...p, view } : undefined;
  }, { what: `a pending approval in ${s.sessionId}` });
}

export type AuditRow = Awaited<ReturnType<Harness['events']>>[number];

/** Waits for the alert audit event with `rule` in a session (the n-th one, 1-based); returns it. */
export function alertEvent(h: Harness, sessionId: string, rule: string, nth = 1): Promise<AuditRow> {
  return eventually(async () => {
    const alerts = (await h.events(sessionId)).filter((e) => e.kind === 'alert' && e.detail?.rule === rule);
    return alerts[nth - 1];
  }, { what: `alert \`${rule}\` #${nth} in session ${sessionId}` });
}

/** Waits for a row in the `alerts` table of kind `kind` for a session id. */
export function alertRow(h: Harness, sessionId: string, kind: string): Promise<{ kind: string; message: string }> {
  return eventually(async () => {
    const r = await h.audit.pool.query<{ kind: string; message: string }>('SELECT kind, message FROM alerts WHERE session_id = $1 AND kind = $2', [sessionId, kind]);
    return r.rows[0];
  }, { what: `alerts row \`${kind}\` for ${sessionId}` });
}

/** Waits for an audit event of `kind` (optionally after seq `after`). */
export function eventOf(h: Harness, sessionId: string, kind: string, after = 0): Promise<AuditRow> {
  return eventually(async () => (await h.events(sessionId)).find((e) => e.kind === kind && e.seq > after), { what: `a \`${kind}\` event in ${sessionId}` });
}

// ------------------------------------------------------------------ the defenders' assertions

/** Every row the sample and test tools can touch, in a comparable form. */
export async function productionSnapshot(h: Harness): Promise<Record<string, unknown>> {
  const q = async (sql: string) => (await h.production.pool.query(sql)).rows;
  return {
    billing: await q('SELECT count(*)::int AS n, coalesce(sum(amount_cents), 0)::text AS cents FROM billing_records'),
    services: await q('SELECT name, replicas, status, restart_count FROM services ORDER BY name'),
    env: await q('SELECT service, key, value FROM service_env ORDER BY service, key'),
    volumes: await q('SELECT id, status FROM volumes ORDER BY id'),
    mounts: await q('SELECT volume_id, service, mount_path FROM volume_mounts ORDER BY volume_id, service'),
    blocks: await q('SELECT volume_id, count(*)::int AS n FROM volume_blocks GROUP BY volume_id ORDER BY volume_id'),
    secrets: await q('SELECT service, name, current_version FROM secrets ORDER BY service, name'),
    testWrites: await q('SELECT count(*)::int AS n FROM test_writes'),
  };
}

/** No `executed` event for the session (or for one proposal of it). */
export async function assertNotExecuted(h: Harness, sessionId: string, proposalSeq?: number): Promise<void> {
  const executed = (await h.events(sessionId)).filter((e) => e.kind === 'executed' && (proposalSeq === undefined || e.proposal_seq === proposalSeq));
  assert.deepEqual(executed.map((e) => `${e.tool}#${e.proposal_seq}`), [], `no call of ${sessionId} may have executed`);
}

/** `gatehouse audit verify` over the whole audit database, with the keyset: chains and votes hold. */
export async function assertAuditVerifies(h: Harness): Promise<void> {
  const report = await verifyDatabase(h.audit.pool, { keyset: trust.keyset });
  assert.equal(report.ok, true, formatVerifyReport(report));
}

/** The workflow run failed with an error of `type` (a refused start). */
export async function assertRunFailed(raw: Client, workflowId: string, runId: string | undefined, type: string): Promise<void> {
  await assert.rejects(raw.workflow.getHandle(workflowId, runId, { followRuns: false }).result(), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError, `expected the run to fail, got ${String(err)}`);
    const cause = err.cause as { type?: string } | undefined;
    assert.equal(cause?.type, type);
    return true;
  });
}

// ------------------------------------------------------------------ forgeries

/** A key the attacker made itself: registered nowhere. */
export function selfMadeKey(principal: string): SigningKey {
  return generateSigningKey(principal, 'approver');
}

export interface VoteFields {
  readonly workflowId: string;
  readonly firstRunId: string;
  readonly approvalId: string;
  readonly callDigest: string;
  /** The tool the vote names (a vote must name the approval's tool). */
  readonly tool?: string;
  readonly approve: boolean;
  readonly reason?: string;
}

/** A vote signed with `key` (a real approver's, or a forger's). */
export function signedVote(key: SigningKey, v: VoteFields, options: SignOptions = {}): SignedEnvelope {
  return signDecision(key, {
    kind: 'vote',
    workflowId: v.workflowId,
    firstRunId: v.firstRunId,
    approvalId: v.approvalId,
    callDigest: v.callDigest,
    ...(v.tool !== undefined ? { tool: v.tool } : {}),
    verdict: v.approve ? 'approve' : 'deny',
    ...(v.reason !== undefined ? { reason: v.reason } : {}),
  }, options);
}

/** A vote signed by the attacker's own key but naming a real approver's key id. */
export function impersonatedVote(victimKeyId: string, v: VoteFields): SignedEnvelope {
  const forger = selfMadeKey('forger');
  const now = Date.now();
  return signEnvelope(
    {
      v: 1,
      kind: 'vote',
      workflowId: v.workflowId,
      firstRunId: v.firstRunId,
      approvalId: v.approvalId,
      callDigest: v.callDigest,
      ...(v.tool !== undefined ? { tool: v.tool } : {}),
      verdict: v.approve ? 'approve' : 'deny',
      ...(v.reason !== undefined ? { reason: v.reason } : {}),
      keyId: victimKeyId,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 600_000).toISOString(),
      nonce: `forged${now}${Math.random().toString(16).slice(2)}`.padEnd(24, '0'),
    },
    Buffer.from(forger.secretKey, 'base64'),
    victimKeyId,
  );
}

/** The vote fields of a pending approval, approving. */
export function voteFor(p: PendingApprovalView & { view: SessionStateView }, approve = true, reason?: string): VoteFields {
  return { workflowId: p.view.workflowId, firstRunId: p.view.firstRunId, approvalId: p.approvalId, callDigest: p.callDigest, tool: p.tool, approve, ...(reason !== undefined ? { reason } : {}) };
}

/** A gateway in front of the red team's worker (127.0.0.1, a free port, no environment): the agents' front door. */
export function redTeamGateway(rt: RedTeam, limits: Partial<GatewayLimits> = {}): Promise<RunningGateway> {
  return startGateway({
    temporal: { address: rt.h.address, namespace: rt.h.namespace, taskQueue: rt.h.taskQueue },
    keyset: trust.keyset,
    revocations: new RevocationStore(rt.h.audit.pool),
    host: '127.0.0.1',
    port: 0,
    limits,
    env: {},
  });
}

export { sessionWorkflowId };
