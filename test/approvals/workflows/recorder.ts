/**
 * A tiny workflow exposing the session's `approval` signal (same definition, from
 * `workflows/contract.ts`) and recording what it receives: lets the Slack app and the CLI be
 * tested (and benchmarked) against a real Temporal workflow without the whole session.
 * Each received signal is handed to the `observed` activity, the moment the workflow resumes.
 */
import { condition, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import { approvalSignal, type ApprovalSignal } from '../../../workflows/contract';

/** Activities the recorder calls (implemented by the test or the benchmark). */
export interface RecorderActivities {
  observed(signal: ApprovalSignal): Promise<void>;
}

const { observed } = proxyActivities<RecorderActivities>({ startToCloseTimeout: '10 seconds' });

/** Every `approval` signal received so far, in order. */
export const receivedQuery = defineQuery<ApprovalSignal[]>('received');

/** Records `approval` signals; completes after `expect` of them (never, by default). */
export async function approvalRecorder(expect = Number.POSITIVE_INFINITY): Promise<ApprovalSignal[]> {
  const received: ApprovalSignal[] = [];
  setHandler(approvalSignal, (s) => {
    received.push(s);
  });
  setHandler(receivedQuery, () => received);
  let handled = 0;
  while (handled < expect) {
    await condition(() => received.length > handled);
    const s = received[handled++];
    if (s) await observed(s);
  }
  return received;
}
