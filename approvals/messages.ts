/**
 * The Slack messages of an approval (Block Kit): the request with Approve/Deny buttons, the
 * escalation re-post, the resolved message, the Deny modal. The posting activities and the Bolt
 * app (`approvals/slack/`) render the same messages from here. Pure.
 */
import { approvalParts, groupsAtLevel, partLevels } from '../policies/trust/votes';
import { hasNoApprovers } from './ladder';
import { hiddenValuesWarning, redactedCountIn } from './redaction';
import { bold, code, italic, plain, richBullets, richPreformatted, richQuote, richSection, richText, type Run } from './rich-text';
import { hiddenCount, hiddenCountIn, shownJson, shownText } from './shown-text';
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

/**
 * Who may decide once `level` escalation steps have passed. An unlock has two parts, and both must
 * be met: each is listed with its own count, at its own place on its own ladder (`partLevels`).
 */
function describeGroups(record: ApprovalRecord, level: number): string {
  if (hasNoApprovers(record)) return 'nobody: the policy lists no member in these groups, so the deadline will deny it';
  const levels = partLevels(record.requirement, level);
  const parts = approvalParts(record.requirement).map((p, i) => {
    const groups = groupsAtLevel(p, levels[i] ?? 0).map((g) => `\`${escapeMrkdwn(g)}\``);
    return `${groups.join(', ') || 'none'}${p.approversRequired > 1 ? ` (${p.approversRequired} distinct approvers)` : ''}`;
  });
  return parts.join(' *and* ');
}

/** Longest arguments (as shown, escaped) and intent a request shows whole; past either it offers no Approve. */
export const SLACK_ARGS_SHOWN_MAX = 2900;
export const SLACK_INTENT_SHOWN_MAX = 4000;
/** The reasoning is the agent's own account, not what runs: past this it is cut, and the message says so. */
const REASONING_SHOWN_MAX = 1500;
/** A rule's message can quote an argument: each is cut here. */
const REASON_SHOWN_MAX = 300;

/**
 * Whether a Slack message shows the whole call: the arguments and the intent, escaped as shown,
 * each within what one message holds. Only then does it offer Approve, and only then does the
 * Bolt app sign an approval clicked on it: a person signs what they read, not what was cut.
 */
export function slackShowsWholeCall(record: ApprovalRecord): boolean {
  return shownJson(record.redactedArgs).length <= SLACK_ARGS_SHOWN_MAX && shownText(record.intent).length <= SLACK_INTENT_SHOWN_MAX;
}

/** `text` cut to `max` characters, saying how much was left out and where to read it all. */
function cut(text: string, max: number, approvalId: string): Run[] {
  if (text.length <= max) return [plain(text)];
  return [plain(text.slice(0, max)), italic(`… ${(text.length - max).toLocaleString('en-US')} more characters: \`gatehouse approvals show ${approvalId}\` or the console shows all of it`)];
}

/** The body every version of the message shares: who asks, for what, why, and what it touches. */
function requestBlocks(record: ApprovalRecord, level: number): Block[] {
  // Everything the agent wrote (intent, reasoning, arguments) and every rule's message, which can
  // quote it, is rich text: drawn as written, never read as mrkdwn.
  const args = shownJson(record.redactedArgs);
  const intent = shownText(record.intent);
  const reasoning = shownText(record.reasoning);
  const whole = slackShowsWholeCall(record);
  const hidden = hiddenCountIn(record.redactedArgs) + hiddenCount(record.intent) + hiddenCount(record.reasoning);
  const reasons = record.decision.reasons.map((r) => [code(r.rule), plain(' '), ...cut(shownText(r.message), REASON_SHOWN_MAX, record.approvalId)]);
  const blocks: Block[] = [
    section(`:lock: *Approval needed:* \`${escapeMrkdwn(record.tool)}\` requested by \`${escapeMrkdwn(record.agentId)}\``),
    fields([
      ['Agent', `\`${escapeMrkdwn(record.agentId)}\``],
      ['Owner', `\`${escapeMrkdwn(record.owner)}\``],
      ['Tool', `\`${escapeMrkdwn(record.tool)}\``],
      ['Blast radius', record.blastRadius === undefined ? 'unknown' : `${record.blastRadius.toLocaleString('en-US')} rows/objects`],
      ['Deadline', `${slackDate(record.deadline)} (then denied automatically)`],
      ['Approvers', describeGroups(record, level)],
    ]),
    richText(richSection(bold('Intent')), intent ? richQuote(...cut(intent, SLACK_INTENT_SHOWN_MAX, record.approvalId)) : richSection(italic('none declared'))),
    richText(richSection(bold('Reasoning')), reasoning ? richQuote(...cut(reasoning, REASONING_SHOWN_MAX, record.approvalId)) : richSection(italic('none given'))),
    whole
      ? richText(richSection(bold('Arguments'), plain(' (redacted)')), richPreformatted(args))
      : richText(
          richSection(bold('Arguments'), plain(` (redacted): ${args.length.toLocaleString('en-US')} characters, more than this message shows whole.`)),
          richSection(plain('Read them in the console or with '), code(`gatehouse approvals show ${record.approvalId}`), plain(', and approve there; you may deny here.')),
        ),
  ];
  if (hidden > 0) {
    blocks.push(context(`:warning: ${hidden} hidden character${hidden === 1 ? '' : 's'} (drawing nothing, reordering text or looking like a space) ${hidden === 1 ? 'is' : 'are'} shown as \`\\uXXXX\` escapes.`));
  }
  blocks.push(
    richText(richSection(bold('Why the policy asks')), reasons.length ? richBullets(reasons) : richSection(italic('none given'))),
    richText(richSection(plain('approval '), code(record.approvalId), plain(' · call digest '), code(record.callDigest.slice(0, 12)), plain(' · policy '), code(record.decision.policyHash.slice(0, 12)))),
  );
  return blocks;
}

/** Approve and Deny; Deny alone when the message does not show the whole call. */
function buttons(approvalId: string, approvable: boolean): Block {
  const approve = { type: 'button', action_id: APPROVE_ACTION_ID, style: 'primary', value: approvalId, text: { type: 'plain_text', text: 'Approve' } };
  const deny = { type: 'button', action_id: DENY_ACTION_ID, style: 'danger', value: approvalId, text: { type: 'plain_text', text: 'Deny' } };
  return { type: 'actions', block_id: ACTIONS_BLOCK_ID, elements: approvable ? [approve, deny] : [deny] };
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
  // Right above Approve: what the person signs without seeing it.
  const unseen = hiddenValuesWarning(redactedCountIn(record.redactedArgs));
  if (unseen) blocks.push(section(unseen));
  blocks.push(buttons(record.approvalId, slackShowsWholeCall(record)));
  return { text: `Approval needed: ${record.tool} requested by ${record.agentId} (${record.approvalId})`, blocks };
}

/** The groups escalation step `level` adds, over every part of the approval (each once). */
function groupsReachedAt(record: ApprovalRecord, level: number): string[] {
  const before = partLevels(record.requirement, level - 1);
  const after = partLevels(record.requirement, level);
  const reached = approvalParts(record.requirement).flatMap((p, i) => (after[i]! > before[i]! ? [p.groups[after[i]!] ?? ''] : []));
  // A step no part widens at (more steps than groups, in a hand-written row) names the first part's group at that index, as before.
  return reached.length ? [...new Set(reached)] : [record.requirement.groups[level] ?? ''];
}

/** The re-post at an escalation step: mentions the members of the groups now asked. */
export function renderEscalation(record: ApprovalRecord, level: number): RenderedMessage {
  const groups = groupsReachedAt(record, level);
  const members = [...new Set(groups.flatMap((g) => record.groupMembers[g] ?? []))].map(mention).join(' ');
  const head = section(
    `:rotating_light: *Escalated* to ${groups.map((g) => `\`${escapeMrkdwn(g)}\``).join(', ')} (level ${level}): no decision yet. ${members}`.trim(),
  );
  const req = renderRequest(record, level);
  return { text: `Escalated to ${groups.join(', ')}: ${req.text}`, blocks: [head, ...req.blocks] };
}

/**
 * The final line that replaces the buttons. Only an approval or a denial names who decided: an
 * expired or cancelled approval was decided by nobody, whatever approvals it had collected (the
 * workflow reports those as `decidedBy` too), so it says what ended it instead.
 */
export function resolutionLine(view: ResolvedView): string {
  const when = slackDate(view.at);
  // The reason is a person's, or a halt's — which an agent can write: it follows as rich text.
  const why = view.reason ? ':' : '';
  const by = view.decidedBy.map(mention).join(', ');
  switch (view.status) {
    case 'approved':
      return `:white_check_mark: *Approved* by ${by || 'its approvers'} at ${when}${why}`;
    case 'denied':
      return `:no_entry: *Denied* by ${by || 'an approver'} at ${when}${why}`;
    case 'expired':
      return `:hourglass: *Expired: denied automatically* at ${when}: nobody decided by its deadline${why}`;
    case 'cancelled':
      return `:heavy_multiplication_x: *Cancelled: the session was halted* at ${when}, before anyone decided${why}`;
  }
}

/**
 * The approvals an expired or cancelled approval had collected (`decidedBy` of those outcomes), as
 * such: not enough to decide it, and never who decided. Undefined when there were none, or for an
 * approval or a denial (whose `decidedBy` did decide).
 */
export function approvalsSoFar(view: { readonly status: string; readonly decidedBy: readonly string[] }): readonly string[] | undefined {
  if (view.status !== 'expired' && view.status !== 'cancelled') return undefined;
  return view.decidedBy.length ? view.decidedBy : undefined;
}

/** The notification text's account of a resolution (who decided only for an approval or a denial). */
function resolutionText(view: Pick<ResolvedView, 'status' | 'decidedBy'>): string {
  switch (view.status) {
    case 'approved':
      return `approved by ${view.decidedBy.join(', ') || 'its approvers'}`;
    case 'denied':
      return `denied by ${view.decidedBy.join(', ') || 'an approver'}`;
    case 'expired':
      return 'expired — denied automatically at its deadline, nobody decided';
    case 'cancelled':
      return 'cancelled — the session was halted before anyone decided';
  }
}

/** The message once resolved: same body, buttons replaced by who decided (or what ended it), when and why. */
export function renderResolved(record: ApprovalRecord, view: ResolvedView): RenderedMessage {
  const blocks = requestBlocks(record, record.escalationLevel);
  blocks.push(section(resolutionLine(view)));
  if (view.reason) blocks.push(richText(richQuote({ text: shownText(view.reason) })));
  const partial = approvalsSoFar(view);
  if (partial) blocks.push(context(`Approvals so far, not enough to decide: ${partial.map(mention).join(', ')}`));
  return { text: `${record.tool} (${record.approvalId}): ${resolutionText(view)}`, blocks };
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

