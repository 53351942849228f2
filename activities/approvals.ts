/**
 * The approval activities the session workflow calls when a proposal needs a human.
 *
 * - `storeApproval` stores the approval (the row the CLI and the console decide on), posting nothing.
 * - `requestApproval` stores the approval and posts ONE Slack message with Approve/Deny buttons.
 * - `escalateApproval` records the new level and re-posts, mentioning the next group.
 * - `resolveApproval` records the workflow's outcome and updates every post in place.
 *
 * Each is idempotent under Temporal's retries: a retried insert finds its own row (a row with other
 * content under the same id is a conflict: nothing is posted and the workflow denies), a post is looked up by (approval, level) before posting, and updates are overwrites. The row is
 * written before Slack is called, so the CLI can decide even when Slack is down or not set up.
 * The table, the messages and who may decide are the approval domain's (`approvals/`).
 * Node-only.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { webApi } from '@slack/bolt';
import { renderEscalation, renderRequest, renderResolved, type RenderedMessage, type ResolvedView } from '../approvals/messages';
import type { ApprovalStore } from '../approvals/store';
import type { ApprovalEscalation, ApprovalRecord, ApprovalRequest, ApprovalResolution, SlackPost } from '../approvals/types';

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
  /**
   * The fields in which a row already stored under the approval's id differs from the request:
   * nothing was posted, and the workflow denies the call (`approval.conflict`).
   */
  readonly conflict?: readonly string[];
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

/** What a resolved post shows: the resolution stored (the first one wins); none while pending. */
function storedResolution(record: ApprovalRecord, fallbackAt: string): ResolvedView | undefined {
  if (record.status === 'pending') return undefined;
  return {
    status: record.status,
    decidedBy: record.decidedBy,
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    at: record.decidedAt ?? fallbackAt,
  };
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

  /**
   * The workflow posts beside the approval's wait and may resolve the approval while a post is
   * under way (a cancelled activity runs on): read the row again after the last post, and if it was
   * decided meanwhile, show that on every post. `resolveApproval` stores the outcome before it reads
   * the posts, so whichever read comes later sees the other's writes: no decided approval keeps live buttons.
   */
  async function showOutcomeIfDecided(approvalId: string, fallbackAt: string): Promise<void> {
    if (!slack) return;
    const record = await mustGet(store, approvalId);
    const decided = storedResolution(record, fallbackAt);
    if (decided) for (const p of record.posts) await update(record, p, renderResolved(record, decided));
  }

  /** Stores the approval, or finds it stored; `conflict`: another row holds its id. Posts nothing. */
  async function storeApproval(req: ApprovalRequest): Promise<{ readonly conflict?: readonly string[] }> {
    const stored = await store.insert(req);
    if (stored.status !== 'conflict') return {};
    log?.warn({ approvalId: req.approvalId, fields: stored.fields }, 'approval id already stored with other content: not posted');
    return { conflict: stored.fields };
  }

  return {
    storeApproval,

    /** Stores the approval and posts the request once; a retry finds the stored post. */
    async requestApproval(req: ApprovalRequest): Promise<RequestApprovalResult> {
      const { conflict } = await storeApproval(req);
      if (conflict) return { postedNow: false, conflict };
      const record = await mustGet(store, req.approvalId);
      // Names the approvers of the ladder as it stands: an escalation may have come first (Slack slow).
      const result = await post(record, 0, renderRequest(record));
      await showOutcomeIfDecided(req.approvalId, req.requestedAt);
      return result;
    },

    /** Records the escalation and re-posts to the channel, mentioning the group now asked. */
    async escalateApproval(req: ApprovalRequest, e: ApprovalEscalation): Promise<RequestApprovalResult> {
      const stored = await store.insert(req);
      // A row changed since the request is not re-posted: its buttons would show what nobody asked.
      if (stored.status === 'conflict') {
        log?.warn({ approvalId: req.approvalId, fields: stored.fields }, 'approval row differs from the request: escalation not posted');
        return { postedNow: false, conflict: stored.fields };
      }
      await store.recordEscalation(req.approvalId, e.level, e.at);
      const record = await mustGet(store, req.approvalId);
      if (record.status !== 'pending') return { postedNow: false };
      const result = await post(record, e.level, renderEscalation(record, e.level));
      // Earlier posts keep their buttons but now name the widened set of approvers.
      for (const earlier of record.posts.filter((p) => p.level < e.level)) {
        await update(record, earlier, renderRequest(record, e.level));
      }
      log?.info({ approvalId: req.approvalId, level: e.level, group: e.group }, 'approval escalated');
      await showOutcomeIfDecided(req.approvalId, e.at);
      return result;
    },

    /** Records the outcome and replaces the buttons of every post with who decided, when and why. */
    async resolveApproval(req: ApprovalRequest, r: ApprovalResolution): Promise<void> {
      await store.insert(req);
      await store.resolve(r);
      const record = await mustGet(store, req.approvalId);
      // The first resolution stored wins; a late or retried one renders what is stored.
      const view = storedResolution(record, r.at) ?? r;
      const msg = renderResolved(record, view);
      for (const p of record.posts) await update(record, p, msg);
      log?.info({ approvalId: req.approvalId, status: view.status }, 'approval resolved');
    },
  };
}

/** The activities as the workflow proxies them (`import type` only in workflow code). */
export type ApprovalActivities = ReturnType<typeof createApprovalActivities>;
