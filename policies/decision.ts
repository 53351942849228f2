/** Reading a `Decision` without branching on its verdict at every use. */
import type { ApprovalRequirement, Decision } from './types';

/** Who must approve: set on an `approve` decision only. */
export function approvalOf(d: Decision): ApprovalRequirement | undefined {
  return d.verdict === 'approve' ? d.approval : undefined;
}

/** The out-of-band unlock a `deny` offers, when only forbidden transitions stand in the way. */
export function unlockOf(d: Decision): ApprovalRequirement | undefined {
  return d.verdict === 'deny' ? d.unlock : undefined;
}
