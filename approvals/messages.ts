/**
 * The Slack messages of an approval (Block Kit): the request with Approve/Deny buttons, the
 * escalation re-post, the resolved message, the Deny modal. The posting activities and the Bolt
 * app (`approvals/slack/`) render the same messages from here. Pure.
 */
import { approvalParts, groupsAtLevel } from '../policies/trust/votes';
import { hasNoApprovers } from './ladder';
import type { ApprovalRecord, ApprovalStatus, ApprovalVote } from './types';

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

/**
 * A message whose row failed the check against its session (`approvals/shown-call.ts`): the
 * buttons go, and nothing of the row's own account is repeated, since it is what did not match.
 */
export function renderRefused(approvalId: string, refusal: { readonly code: string; readonly message: string }): RenderedMessage {
  return {
    text: `approval ${approvalId}: refused (${refusal.code}), nothing signed`,
    blocks: [
      section(`:octagonal_sign: *Refused, nothing signed* (\`${escapeMrkdwn(refusal.code)}\`): ${escapeMrkdwn(refusal.message)}`),
      context('This message does not show the call its session waits for, so it cannot be decided here; an alert was raised.'),
    ],
  };
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

