/**
 * The `approvals` table (migration `010_approvals.sql`) with its posts and votes. Writers: the
 * approval activities (the workflow's view: request, escalate, resolve) and `client/decide.ts`
 * (votes, under a row lock, so racing clicks are serialised). Node-only.
 */
import type { Pool, PoolClient } from 'pg';
import { checkout } from '../audit/checkout';
import { canonicalJson } from '../policies/hash';
import type { ApprovalRecord, ApprovalRequest, ApprovalResolution, ApprovalStatus, ApprovalSubject, ApprovalVote, SlackPost } from './types';

/** Listing filter: pending only (the default) or every approval. */
export interface ListOptions {
  readonly all?: boolean;
  readonly limit?: number;
}

/** What `insert` did: stored the row, found it already stored (a retry), or found another row under its id. */
export type InsertResult =
  | { readonly status: 'inserted' | 'same' }
  | { readonly status: 'conflict'; readonly fields: readonly string[] };

/** Each field of a request, as the row stores it (JSON through jsonb, times as instants). */
function subjectFields(s: Omit<ApprovalSubject, 'approvalId'> & { readonly tool: string; readonly reasoning: string }): Record<string, string> {
  const json = (v: unknown) => canonicalJson(v === undefined ? null : JSON.parse(JSON.stringify(v)));
  return {
    session: s.sessionId,
    workflow: s.workflowId,
    run: s.firstRunId,
    agent: s.agentId,
    owner: s.owner,
    intent: s.intent,
    tool: s.tool,
    reasoning: s.reasoning,
    args: json(s.redactedArgs),
    'blast radius': String(s.blastRadius ?? ''),
    decision: json(s.decision),
    'policy hash': String((s.decision as { policyHash?: unknown } | null)?.policyHash ?? ''),
    requirement: json(s.requirement),
    'group members': json(s.groupMembers),
    digest: s.callDigest,
    'requested at': String(Date.parse(s.requestedAt)),
    deadline: String(Date.parse(s.deadline)),
  };
}

/** The fields in which a stored row differs from a request (empty: the same approval). */
export function differingFields(stored: ApprovalRecord, req: ApprovalRequest): string[] {
  const a = subjectFields(stored);
  const b = subjectFields({ ...req, tool: req.proposal.tool, reasoning: req.proposal.reasoning });
  return Object.keys(b).filter((k) => a[k] !== b[k]);
}

/** What `withLock` hands to its callback: the locked row and the one change allowed there. */
export interface LockedApproval {
  readonly record: ApprovalRecord | undefined;
  addVote(vote: ApprovalVote): Promise<void>;
}

// Posts and votes come back with the row (one round trip: a click holds the row lock meanwhile).
const SELECT_COLUMNS = `
  a.approval_id, a.session_id, a.workflow_id, a.first_run_id, a.agent_id, a.owner, a.intent, a.tool, a.reasoning, a.redacted_args,
  a.blast_radius, a.decision, a.requirement, a.group_members, a.call_digest, a.status, a.decided_by, a.reason,
  a.decided_at, a.requested_at, a.deadline, a.escalation_level,
  (SELECT coalesce(json_agg(json_build_object('level', p.level, 'channel', p.channel, 'ts', p.ts) ORDER BY p.level), '[]'::json)
     FROM approval_posts p WHERE p.approval_id = a.approval_id) AS posts,
  (SELECT coalesce(json_agg(json_build_object('approver', v.approver, 'approve', v.approve, 'reason', v.reason, 'via', v.via,
            'click_id', v.click_id, 'at', v.at) ORDER BY v.at, v.approver), '[]'::json)
     FROM approval_votes v WHERE v.approval_id = a.approval_id) AS votes`;

type Row = Record<string, unknown>;

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

function toVote(row: Row): ApprovalVote {
  return {
    approver: String(row.approver),
    approve: Boolean(row.approve),
    ...(row.reason == null ? {} : { reason: String(row.reason) }),
    via: row.via === 'cli' ? 'cli' : 'slack',
    ...(row.click_id == null ? {} : { clickId: String(row.click_id) }),
    at: iso(row.at),
  };
}

function toRecord(row: Row): ApprovalRecord {
  const posts = ((row.posts as Row[] | null) ?? []).map((p) => ({ level: Number(p.level), channel: String(p.channel), ts: String(p.ts) }));
  const votes = ((row.votes as Row[] | null) ?? []).map(toVote);
  return {
    approvalId: String(row.approval_id),
    sessionId: String(row.session_id),
    workflowId: String(row.workflow_id),
    firstRunId: row.first_run_id == null ? '' : String(row.first_run_id),
    agentId: String(row.agent_id),
    owner: String(row.owner),
    intent: String(row.intent),
    tool: String(row.tool),
    reasoning: String(row.reasoning),
    redactedArgs: row.redacted_args as ApprovalRecord['redactedArgs'],
    ...(row.blast_radius == null ? {} : { blastRadius: Number(row.blast_radius) }),
    decision: row.decision as ApprovalRecord['decision'],
    requirement: row.requirement as ApprovalRecord['requirement'],
    groupMembers: row.group_members as ApprovalRecord['groupMembers'],
    callDigest: String(row.call_digest),
    status: row.status as ApprovalStatus,
    decidedBy: (row.decided_by as string[] | null) ?? [],
    ...(row.reason == null ? {} : { reason: String(row.reason) }),
    ...(row.decided_at == null ? {} : { decidedAt: iso(row.decided_at) }),
    requestedAt: iso(row.requested_at),
    deadline: iso(row.deadline),
    escalationLevel: Number(row.escalation_level),
    posts,
    votes,
  };
}

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** Reads and writes the approvals tables; every write is idempotent. */
export class ApprovalStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Inserts the row of a new approval. A retry of the same request changes nothing (`same`); a
   * row already stored under its id with any other content is a `conflict`, never silently kept
   * as if it were this request: whoever wrote it first would decide what approvers are shown.
   */
  async insert(req: ApprovalRequest): Promise<InsertResult> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO approvals (approval_id, session_id, workflow_id, agent_id, owner, intent, tool, reasoning,
         redacted_args, blast_radius, decision, requirement, group_members, call_digest, requested_at, deadline, first_run_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)
       ON CONFLICT (approval_id) DO NOTHING`,
      [
        req.approvalId,
        req.sessionId,
        req.workflowId,
        req.agentId,
        req.owner,
        req.intent,
        req.proposal.tool,
        req.proposal.reasoning,
        JSON.stringify(req.redactedArgs),
        req.blastRadius ?? null,
        JSON.stringify(req.decision),
        JSON.stringify(req.requirement),
        JSON.stringify(req.groupMembers),
        req.callDigest,
        req.requestedAt,
        req.deadline,
        req.firstRunId,
      ],
    );
    if (rowCount === 1) return { status: 'inserted' };
    const stored = await this.get(req.approvalId);
    const fields = stored ? differingFields(stored, req) : ['row'];
    return fields.length === 0 ? { status: 'same' } : { status: 'conflict', fields };
  }

  /**
   * Raises an alert for a session (the audit database's `alerts` table, which shares this pool):
   * how an approval surface reports a row it refused to sign.
   */
  async raiseAlert(sessionId: string, kind: string, message: string, at: string): Promise<void> {
    await this.pool.query('INSERT INTO alerts (session_id, kind, message, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [sessionId, kind, message, at]);
  }

  /** One approval with its posts and votes, or undefined. */
  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    return this.load(this.pool, approvalId);
  }

  /** Pending approvals (or all with `all`), oldest request first. */
  async list(opts: ListOptions = {}): Promise<ApprovalRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT ${SELECT_COLUMNS} FROM approvals a ${opts.all ? '' : `WHERE a.status = 'pending'`}
       ORDER BY a.requested_at, a.approval_id LIMIT $1`,
      [opts.limit ?? 1000],
    );
    return (rows as Row[]).map(toRecord);
  }

  /** Records a Slack post; the first post (level 0) is also kept on the approval row. */
  async recordPost(approvalId: string, post: SlackPost): Promise<void> {
    await this.pool.query(
      `INSERT INTO approval_posts (approval_id, level, channel, ts) VALUES ($1, $2, $3, $4)
       ON CONFLICT (approval_id, level) DO NOTHING`,
      [approvalId, post.level, post.channel, post.ts],
    );
    if (post.level === 0) {
      await this.pool.query(
        `UPDATE approvals SET slack_channel = $2, slack_ts = $3, updated_at = now()
         WHERE approval_id = $1 AND slack_ts IS NULL`,
        [approvalId, post.channel, post.ts],
      );
    }
  }

  /** Moves the approval to escalation `level` (never backwards, never once resolved). */
  async recordEscalation(approvalId: string, level: number, at: string): Promise<void> {
    await this.pool.query(
      `UPDATE approvals SET escalation_level = $2, escalated_at = $3, updated_at = now()
       WHERE approval_id = $1 AND escalation_level < $2 AND status = 'pending'`,
      [approvalId, level, at],
    );
  }

  /**
   * Records the workflow's final word. Only a pending row changes, so a retried activity (or
   * one arriving after another resolution) leaves the first resolution in place.
   */
  async resolve(r: ApprovalResolution): Promise<void> {
    await this.pool.query(
      `UPDATE approvals SET status = $2, decided_by = $3, reason = $4, decided_at = $5, updated_at = now()
       WHERE approval_id = $1 AND status = 'pending'`,
      [r.approvalId, r.status, JSON.stringify(r.decidedBy), r.reason ?? null, r.at],
    );
  }

  /**
   * Runs `fn` with the approval row locked (`SELECT ... FOR UPDATE`) in one transaction, so two
   * clicks on the same approval are decided one after the other. A throw rolls back the votes.
   */
  async withLock<T>(approvalId: string, fn: (locked: LockedApproval) => Promise<T>): Promise<T> {
    const checked = await checkout(this.pool);
    const { client } = checked;
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // Lock first, read after: in READ COMMITTED a statement that waited for the lock still sees
      // its own older snapshot in subqueries, so the votes of a click that just committed would be
      // missed. The next statement takes a fresh snapshot, after the lock is ours.
      await client.query('SELECT 1 FROM approvals WHERE approval_id = $1 FOR UPDATE', [approvalId]);
      const record = await this.load(client, approvalId);
      const result = await fn({
        record,
        addVote: async (vote) => {
          await client.query(
            `INSERT INTO approval_votes (approval_id, approver, approve, reason, via, click_id, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [approvalId, vote.approver, vote.approve, vote.reason ?? null, vote.via, vote.clickId ?? null, vote.at],
          );
        },
      });
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)); // gone: not back to the pool
      });
      throw err;
    } finally {
      checked.release(broken);
    }
  }

  private async load(db: Queryable, approvalId: string): Promise<ApprovalRecord | undefined> {
    const { rows } = await db.query(
      `SELECT ${SELECT_COLUMNS} FROM approvals a WHERE a.approval_id = $1`,
      [approvalId],
    );
    const row = rows[0] as Row | undefined;
    return row ? toRecord(row) : undefined;
  }
}

