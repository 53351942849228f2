/**
 * Approvals at the activity layer: the `approvals` table, the Slack messages, and the
 * activities the session workflow calls when a proposal needs a human.
 *
 * - `requestApproval` stores the approval and posts ONE Slack message with Approve/Deny buttons.
 * - `escalateApproval` records the new level and re-posts, mentioning the next group.
 * - `resolveApproval` records the workflow's outcome and updates every post in place.
 *
 * Each is idempotent under Temporal's retries: the row is inserted `ON CONFLICT DO NOTHING`, a
 * post is looked up by (approval, level) before posting, and updates are overwrites. The row is
 * written before Slack is called, so the CLI can decide even when Slack is down or not set up.
 *
 * The store and the renderer live here (not in `approvals/`) because the layering lets
 * `approvals/` (the Bolt app, the CLI checks) import activities, never the reverse;
 * `approvals/store.ts` and `approvals/messages.ts` re-export them. Who may decide when is the one
 * ladder of `policies/trust/votes.ts` (`ladderLevel`, `groupsAtLevel`).
 * Node-only.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { webApi } from '@slack/bolt';
import type { Pool, PoolClient } from 'pg';
import { checkout } from '../audit/checkout';
import { approvalParts, groupsAtLevel, ladderLevel } from '../policies/trust/votes';
import type {
  ApprovalEscalation,
  ApprovalRecord,
  ApprovalRequest,
  ApprovalResolution,
  ApprovalStatus,
  ApprovalVote,
  SlackPost,
} from '../approvals/types';

// ---------------------------------------------------------------- who may decide

/**
 * True when the policy lists no member in any group of the request. Nobody can decide such a
 * request (fail closed): it waits for its deadline and is then denied automatically.
 */
export function hasNoApprovers(record: Pick<ApprovalRecord, 'requirement' | 'groupMembers'>): boolean {
  return approvalParts(record.requirement).every((p) => p.groups.every((g) => (record.groupMembers[g] ?? []).length === 0));
}

/**
 * Groups that may decide at `now`, per part of the approval (the call's own; for an unlock, the
 * call's approval as well): the ladder of `policies/trust/votes.ts`, the one the workflow applies.
 */
export function groupsAllowedNow(record: Pick<ApprovalRecord, 'requirement' | 'requestedAt'>, now: number): readonly (readonly string[])[] {
  const requestedAt = Date.parse(record.requestedAt);
  return approvalParts(record.requirement).map((p) => groupsAtLevel(p, ladderLevel(p, requestedAt, now)));
}

// ---------------------------------------------------------------- the approvals table

/**
 * The `approvals` table (migration `010_approvals.sql`) with its posts and votes. Writers: these
 * activities (the workflow's view: request, escalate, resolve) and `approvals/decide.ts` (votes,
 * under a row lock, so racing clicks are serialised).
 */
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

  /** Inserts the row of a new approval; a retry with the same id changes nothing. */
  async insert(req: ApprovalRequest): Promise<void> {
    await this.pool.query(
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

// ---------------------------------------------------------------- the slack messages

/** Action ids of the buttons and callback id of the Deny modal: the Bolt app routes on them. */
export const APPROVE_ACTION_ID = 'gatehouse_approve';
export const DENY_ACTION_ID = 'gatehouse_deny';
export const DENY_VIEW_CALLBACK_ID = 'gatehouse_deny_reason';
export const DENY_REASON_BLOCK_ID = 'gatehouse_reason';
export const DENY_REASON_ACTION_ID = 'reason';
const ACTIONS_BLOCK_ID = 'gatehouse_decision';

/** A Block Kit block (kept loose: Slack's own types are wider than what we render). */
export type Block = Record<string, unknown>;

/** Text and blocks of one message; `text` is the notification fallback. */
export interface RenderedMessage {
  readonly text: string;
  readonly blocks: Block[];
}

/** The final state a resolved message shows. */
export interface ResolvedView {
  readonly status: Exclude<ApprovalStatus, 'pending'>;
  readonly decidedBy: readonly string[];
  readonly reason?: string;
  readonly at: string;
}

// Section text is limited to 3000 characters by Slack.
const MAX_SECTION = 2900;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max = MAX_SECTION): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `<@U123>` for a Slack user id, `@name` otherwise. */
export function mention(member: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(member) ? `<@${member}>` : `@${escapeMrkdwn(member)}`;
}

/** A Slack date token (rendered in the reader's time zone) with the ISO time as fallback. */
function slackDate(isoTime: string): string {
  const seconds = Math.floor(Date.parse(isoTime) / 1000);
  return Number.isFinite(seconds) ? `<!date^${seconds}^{date_short_pretty} {time_secs}|${isoTime}>` : isoTime;
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text) } };
}

function fields(pairs: ReadonlyArray<readonly [string, string]>): Block {
  return {
    type: 'section',
    fields: pairs.map(([k, v]) => ({ type: 'mrkdwn', text: clip(`*${k}*\n${v}`, 1900) })),
  };
}

function context(text: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(text) }] };
}

function describeGroups(record: ApprovalRecord, level: number): string {
  if (hasNoApprovers(record)) return 'nobody: the policy lists no member in these groups, so the deadline will deny it';
  // An unlock has two parts, and both must be met: each is listed with its own count.
  const parts = approvalParts(record.requirement).map((p, i) => {
    const groups = groupsAtLevel(p, i === 0 ? level : 0).map((g) => `\`${escapeMrkdwn(g)}\``);
    return `${groups.join(', ') || 'none'}${p.approversRequired > 1 ? ` (${p.approversRequired} distinct approvers)` : ''}`;
  });
  return parts.join(' *and* ');
}

/** The body every version of the message shares: who asks, for what, why, and what it touches. */
function requestBlocks(record: ApprovalRecord, level: number): Block[] {
  const argsJson = JSON.stringify(record.redactedArgs, null, 2);
  const reasons = record.decision.reasons.length
    ? record.decision.reasons.map((r) => `• \`${escapeMrkdwn(r.rule)}\` ${escapeMrkdwn(r.message)}`).join('\n')
    : '_none given_';
  return [
    section(`:lock: *Approval needed:* \`${escapeMrkdwn(record.tool)}\` requested by \`${escapeMrkdwn(record.agentId)}\``),
    fields([
      ['Agent', `\`${escapeMrkdwn(record.agentId)}\``],
      ['Owner', `\`${escapeMrkdwn(record.owner)}\``],
      ['Tool', `\`${escapeMrkdwn(record.tool)}\``],
      ['Blast radius', record.blastRadius === undefined ? 'unknown' : `${record.blastRadius.toLocaleString('en-US')} rows/objects`],
      ['Deadline', `${slackDate(record.deadline)} (then denied automatically)`],
      ['Approvers', describeGroups(record, level)],
    ]),
    section(`*Intent*\n${escapeMrkdwn(record.intent) || '_none declared_'}`),
    section(`*Reasoning*\n>${escapeMrkdwn(record.reasoning || 'none given').replace(/\n/g, '\n>')}`),
    section(`*Arguments* (redacted)\n\`\`\`${clip(escapeMrkdwn(argsJson), MAX_SECTION - 40)}\`\`\``),
    section(`*Why the policy asks*\n${reasons}`),
    context(
      `approval \`${escapeMrkdwn(record.approvalId)}\` · call digest \`${record.callDigest.slice(0, 12)}\` · policy \`${record.decision.policyHash.slice(0, 12)}\``,
    ),
  ];
}

function buttons(approvalId: string): Block {
  return {
    type: 'actions',
    block_id: ACTIONS_BLOCK_ID,
    elements: [
      { type: 'button', action_id: APPROVE_ACTION_ID, style: 'primary', value: approvalId, text: { type: 'plain_text', text: 'Approve' } },
      { type: 'button', action_id: DENY_ACTION_ID, style: 'danger', value: approvalId, text: { type: 'plain_text', text: 'Deny' } },
    ],
  };
}

function progress(votes: readonly ApprovalVote[], required: number): Block | undefined {
  const approvals = votes.filter((v) => v.approve);
  if (approvals.length === 0) return undefined;
  const who = approvals.map((v) => `${mention(v.approver)} (${slackDate(v.at)})`).join(', ');
  return section(`:ballot_box_with_check: Approved by ${who}: ${approvals.length} of ${required}, waiting for another approver`);
}

/** The pending request, with buttons (and the approvals so far when two are needed). */
export function renderRequest(record: ApprovalRecord, level = record.escalationLevel): RenderedMessage {
  const blocks = requestBlocks(record, level);
  const p = progress(record.votes, record.requirement.approversRequired);
  if (p) blocks.push(p);
  blocks.push(buttons(record.approvalId));
  return { text: `Approval needed: ${record.tool} requested by ${record.agentId} (${record.approvalId})`, blocks };
}

/** The re-post at an escalation step: mentions the members of the group now asked. */
export function renderEscalation(record: ApprovalRecord, level: number): RenderedMessage {
  const group = record.requirement.groups[level] ?? '';
  const members = (record.groupMembers[group] ?? []).map(mention).join(' ');
  const head = section(
    `:rotating_light: *Escalated* to \`${escapeMrkdwn(group)}\` (level ${level}): no decision yet. ${members}`.trim(),
  );
  const req = renderRequest(record, level);
  return { text: `Escalated to ${group}: ${req.text}`, blocks: [head, ...req.blocks] };
}

/** The final line that replaces the buttons. */
export function resolutionLine(view: ResolvedView): string {
  const when = slackDate(view.at);
  const why = view.reason ? `: ${escapeMrkdwn(view.reason)}` : '';
  const by = view.decidedBy.map(mention).join(', ');
  switch (view.status) {
    case 'approved':
      return `:white_check_mark: *Approved* by ${by || 'its approvers'} at ${when}${why}`;
    case 'denied':
      return `:no_entry: *Denied* by ${by || 'an approver'} at ${when}${why}`;
    case 'expired':
      return `:hourglass: *Expired: denied automatically* at ${when}${why}`;
    case 'cancelled':
      return `:heavy_multiplication_x: *Cancelled* at ${when}${why}`;
  }
}

/** The message once resolved: same body, buttons replaced by who decided, when and why. */
export function renderResolved(record: ApprovalRecord, view: ResolvedView): RenderedMessage {
  const blocks = requestBlocks(record, record.escalationLevel);
  blocks.push(section(resolutionLine(view)));
  const plain = view.status === 'expired' ? 'expired — denied automatically' : `${view.status} by ${view.decidedBy.join(', ')}`;
  return { text: `${record.tool} (${record.approvalId}): ${plain}`, blocks };
}

/** The Deny modal: asks for the reason; metadata carries the approval and the message clicked. */
export function renderDenyModal(record: ApprovalRecord, metadata: DenyModalMetadata): Block {
  return {
    type: 'modal',
    callback_id: DENY_VIEW_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: 'Deny this action' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section(`Deny \`${escapeMrkdwn(record.tool)}\` requested by \`${escapeMrkdwn(record.agentId)}\` (approval \`${escapeMrkdwn(record.approvalId)}\`)?`),
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK_ID,
        label: { type: 'plain_text', text: 'Reason' },
        element: { type: 'plain_text_input', action_id: DENY_REASON_ACTION_ID, multiline: true, min_length: 1, max_length: 2000 },
      },
    ],
  };
}

/** What the Deny modal carries back on submission. */
export interface DenyModalMetadata {
  readonly approvalId: string;
  readonly channel?: string;
  readonly ts?: string;
}

// ---------------------------------------------------------------- the activities

/** The few logger methods used (pino's signature). */
export interface ActivityLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Dependencies of the approval activities. */
export interface ApprovalActivitiesDeps {
  readonly store: ApprovalStore;
  /** Absent: approvals are stored (and decided through the CLI) but nothing is posted. */
  readonly slack?: webApi.WebClient;
  readonly log?: ActivityLog;
}

/** What `requestApproval` did. */
export interface RequestApprovalResult {
  /** The Slack message of the request, when Slack is configured. */
  readonly post?: SlackPost;
  /** True when this attempt posted it (false: found from an earlier attempt, or no Slack). */
  readonly postedNow: boolean;
}

// Slack answers these when the configuration is wrong: retrying cannot help.
const PERMANENT_SLACK_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'invalid_blocks',
]);

function slackFailure(method: string, approvalId: string, err: unknown): Error {
  const code = (err as { data?: { error?: string } }).data?.error;
  const message = `while calling slack \`${method}\` for approval \`${approvalId}\`: ${code ?? (err instanceof Error ? err.message : String(err))}`;
  return code && PERMANENT_SLACK_ERRORS.has(code)
    ? ApplicationFailure.nonRetryable(message, 'SlackConfigurationError')
    : ApplicationFailure.retryable(message, 'SlackUnavailableError');
}

async function mustGet(store: ApprovalStore, approvalId: string): Promise<ApprovalRecord> {
  const record = await store.get(approvalId);
  if (!record) throw ApplicationFailure.nonRetryable(`no approval \`${approvalId}\` in the approvals table`, 'ApprovalNotFoundError');
  return record;
}

/** Builds the approval activities around a store and an optional Slack Web API client. */
export function createApprovalActivities(deps: ApprovalActivitiesDeps) {
  const { store, slack, log } = deps;

  async function post(record: ApprovalRecord, level: number, msg: RenderedMessage): Promise<RequestApprovalResult> {
    // `record` was read just now: its posts tell whether a retried activity already posted this level.
    const existing = record.posts.find((p) => p.level === level);
    if (existing || !slack) return existing ? { post: existing, postedNow: false } : { postedNow: false };
    let res;
    try {
      res = await slack.chat.postMessage({ channel: record.requirement.channel, text: msg.text, blocks: msg.blocks as never });
    } catch (err) {
      throw slackFailure('chat.postMessage', record.approvalId, err);
    }
    // Slack answers with the channel id even when the policy names the channel: updates need the id.
    const posted: SlackPost = { level, channel: res.channel ?? record.requirement.channel, ts: String(res.ts) };
    await store.recordPost(record.approvalId, posted);
    log?.info({ approvalId: record.approvalId, level, channel: posted.channel, ts: posted.ts }, 'approval posted to slack');
    return { post: posted, postedNow: true };
  }

  async function update(record: ApprovalRecord, target: SlackPost, msg: RenderedMessage): Promise<void> {
    if (!slack) return;
    try {
      await slack.chat.update({ channel: target.channel, ts: target.ts, text: msg.text, blocks: msg.blocks as never });
    } catch (err) {
      throw slackFailure('chat.update', record.approvalId, err);
    }
  }

  return {
    /** Stores the approval and posts the request once; a retry finds the stored post. */
    async requestApproval(req: ApprovalRequest): Promise<RequestApprovalResult> {
      await store.insert(req);
      const record = await mustGet(store, req.approvalId);
      return post(record, 0, renderRequest(record, 0));
    },

    /** Records the escalation and re-posts to the channel, mentioning the group now asked. */
    async escalateApproval(req: ApprovalRequest, e: ApprovalEscalation): Promise<RequestApprovalResult> {
      await store.insert(req);
      await store.recordEscalation(req.approvalId, e.level, e.at);
      const record = await mustGet(store, req.approvalId);
      if (record.status !== 'pending') return { postedNow: false };
      const result = await post(record, e.level, renderEscalation(record, e.level));
      // Earlier posts keep their buttons but now name the widened set of approvers.
      for (const earlier of record.posts.filter((p) => p.level < e.level)) {
        await update(record, earlier, renderRequest(record, e.level));
      }
      log?.info({ approvalId: req.approvalId, level: e.level, group: e.group }, 'approval escalated');
      return result;
    },

    /** Records the outcome and replaces the buttons of every post with who decided, when and why. */
    async resolveApproval(req: ApprovalRequest, r: ApprovalResolution): Promise<void> {
      await store.insert(req);
      await store.resolve(r);
      const record = await mustGet(store, req.approvalId);
      // The first resolution stored wins; a late or retried one renders what is stored.
      const view: ResolvedView =
        record.status === 'pending'
          ? r
          : {
              status: record.status,
              decidedBy: record.decidedBy,
              ...(record.reason === undefined ? {} : { reason: record.reason }),
              at: record.decidedAt ?? r.at,
            };
      const msg = renderResolved(record, view);
      for (const p of record.posts) await update(record, p, msg);
      log?.info({ approvalId: req.approvalId, status: view.status }, 'approval resolved');
    },
  };
}

/** The activities as the workflow proxies them (`import type` only in workflow code). */
export type ApprovalActivities = ReturnType<typeof createApprovalActivities>;
