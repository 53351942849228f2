/**
 * Who may decide an approval at a given moment: the escalation ladder and open approvals.
 * Implemented in `activities/approvals.ts` (the message renderer there needs it too).
 */
export { allowedGroups, currentLevel, hasNoApprovers } from '../activities/approvals';
