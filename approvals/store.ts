/**
 * The `approvals` table (migration `010_approvals.sql`): one row per approval, the Slack posts
 * made for it and the decisions accepted for it. Node-only (PostgreSQL through `pg`).
 *
 * Writers: the approval activities (request, escalate, resolve: the workflow's view) and
 * `decide.ts` (votes, under a row lock, so racing clicks are serialised).
 */
import type { Pool, PoolClient } from 'pg';
import type {
  ApprovalRecord,
  ApprovalRequest,
  ApprovalResolution,
  ApprovalStatus,
  ApprovalVote,
  SlackPost,
} from './types';

/** Listing filter: pending only (the default) or every approval. */
export interface ListOptions {
  readonly all?: boolean;
  readonly limit?: number;
}

/** What `withLock` hands to its callback: the locked row and the one change allowed there. */
export interface LockedApproval {
  readonly record: ApprovalRecord | undefined;
  addVote(vote: ApprovalVote): Promise<void>;
}

const SELECT_COLUMNS = `
  approval_id, session_id, workflow_id, agent_id, owner, intent, tool, reasoning, redacted_args,
  blast_radius, decision, requirement, group_members, call_digest, status, decided_by, reason,
  decided_at, requested_at, deadline, escalation_level`;

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

function toRecord(row: Row, posts: readonly SlackPost[], votes: readonly ApprovalVote[]): ApprovalRecord {
  return {
    approvalId: String(row.approval_id),
    sessionId: String(row.session_id),
    workflowId: String(row.workflow_id),
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

  /** Inserts the row of a new approval; a retry with the same id changes nothing. */
  async insert(req: ApprovalRequest): Promise<void> {
    await this.pool.query(
      `INSERT INTO approvals (approval_id, session_id, workflow_id, agent_id, owner, intent, tool, reasoning,
         redacted_args, blast_radius, decision, requirement, group_members, call_digest, requested_at, deadline)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
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
      ],
    );
  }

  /** One approval with its posts and votes, or undefined. */
  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    return this.load(this.pool, approvalId, false);
  }

  /** Pending approvals (or all with `all`), oldest request first. */
  async list(opts: ListOptions = {}): Promise<ApprovalRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT ${SELECT_COLUMNS} FROM approvals ${opts.all ? '' : `WHERE status = 'pending'`}
       ORDER BY requested_at, approval_id LIMIT $1`,
      [opts.limit ?? 1000],
    );
    const ids = rows.map((r: Row) => String(r.approval_id));
    const [posts, votes] = await Promise.all([this.postsOf(this.pool, ids), this.votesOf(this.pool, ids)]);
    return rows.map((r: Row) =>
      toRecord(r, posts.get(String(r.approval_id)) ?? [], votes.get(String(r.approval_id)) ?? []),
    );
  }

  /** The Slack post made at `level`, if any: how a retried activity knows not to post again. */
  async postAt(approvalId: string, level: number): Promise<SlackPost | undefined> {
    const { rows } = await this.pool.query(
      'SELECT level, channel, ts FROM approval_posts WHERE approval_id = $1 AND level = $2',
      [approvalId, level],
    );
    const row = rows[0] as Row | undefined;
    return row ? { level: Number(row.level), channel: String(row.channel), ts: String(row.ts) } : undefined;
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
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const record = await this.load(client, approvalId, true);
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
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async load(db: Queryable, approvalId: string, lock: boolean): Promise<ApprovalRecord | undefined> {
    const { rows } = await db.query(
      `SELECT ${SELECT_COLUMNS} FROM approvals WHERE approval_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [approvalId],
    );
    const row = rows[0] as Row | undefined;
    if (!row) return undefined;
    const [posts, votes] = await Promise.all([this.postsOf(db, [approvalId]), this.votesOf(db, [approvalId])]);
    return toRecord(row, posts.get(approvalId) ?? [], votes.get(approvalId) ?? []);
  }

  private async postsOf(db: Queryable, ids: readonly string[]): Promise<Map<string, SlackPost[]>> {
    const out = new Map<string, SlackPost[]>();
    if (ids.length === 0) return out;
    const { rows } = await db.query(
      'SELECT approval_id, level, channel, ts FROM approval_posts WHERE approval_id = ANY($1) ORDER BY level',
      [ids],
    );
    for (const r of rows as Row[]) {
      const list = out.get(String(r.approval_id)) ?? [];
      list.push({ level: Number(r.level), channel: String(r.channel), ts: String(r.ts) });
      out.set(String(r.approval_id), list);
    }
    return out;
  }

  private async votesOf(db: Queryable, ids: readonly string[]): Promise<Map<string, ApprovalVote[]>> {
    const out = new Map<string, ApprovalVote[]>();
    if (ids.length === 0) return out;
    const { rows } = await db.query(
      `SELECT approval_id, approver, approve, reason, via, click_id, at FROM approval_votes
       WHERE approval_id = ANY($1) ORDER BY at, approver`,
      [ids],
    );
    for (const r of rows as Row[]) {
      const list = out.get(String(r.approval_id)) ?? [];
      list.push(toVote(r));
      out.set(String(r.approval_id), list);
    }
    return out;
  }
}
