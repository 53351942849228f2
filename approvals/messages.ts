/**
 * The Slack messages of an approval (Block Kit): the request with Approve/Deny buttons, the
 * escalation re-post, the resolved message, the Deny modal. Implemented with the posting
 * activities in `activities/approvals.ts`; the Bolt app renders the same messages from here.
 */
export {
  APPROVE_ACTION_ID,
  DENY_ACTION_ID,
  DENY_REASON_ACTION_ID,
  DENY_REASON_BLOCK_ID,
  DENY_VIEW_CALLBACK_ID,
  escapeMrkdwn,
  mention,
  renderDenyModal,
  renderEscalation,
  renderRequest,
  renderResolved,
  resolutionLine,
  type Block,
  type DenyModalMetadata,
  type RenderedMessage,
  type ResolvedView,
} from '../activities/approvals';
