/**
 * The `approvals` table: one row per approval, its Slack posts and the decisions accepted for it.
 * Implemented next to the activities that write it (`activities/approvals.ts`, since the layering
 * lets `approvals/` import activities but not the reverse); this is the name the app, the CLI and
 * the worker import.
 */
export { ApprovalStore, type ListOptions, type LockedApproval } from '../activities/approvals';
