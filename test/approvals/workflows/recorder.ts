/**
 * A tiny workflow exposing the session's `approval` signal (same definition, from
 * `workflows/contract.ts`) and recording what it receives: lets the Slack app and the CLI be
 * tested (and benchmarked) against a real Temporal workflow without the whole session.
 * Each received signal is handed to the `observed` activity, the moment the workflow resumes.
 * With `answersVotes` it also takes the `vote` update, as the session does, and answers it as the
 * test says (`answerVote`); without, it is a worker from before the update (votes come as the signal).
 */
import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import { approvalSignal, stateQuery, voteUpdate, type ApprovalSignal, type SessionStateView, type VoteAnswer } from '../../../workflows/contract';

/** Activities the recorder calls (implemented by the test or the benchmark). */
export interface RecorderActivities {
  observed(signal: ApprovalSignal): Promise<void>;
  /** What the session would answer to this vote (the test's stand-in for the one vote rule). */
  answerVote(vote: ApprovalSignal): Promise<VoteAnswer>;
}

const { observed, answerVote } = proxyActivities<RecorderActivities>({ startToCloseTimeout: '10 seconds' });

/** Every `approval` signal received so far, in order. */
export const receivedQuery = defineQuery<ApprovalSignal[]>('received');

/** Sets what the recorder's `state` query answers: the session view an approval surface checks a row against. */
export const setViewSignal = defineSignal<[SessionStateView]>('test.setView');

/** Records `approval` signals (and `vote` updates, when `answersVotes`); completes after `expect` of them (never, by default). */
export async function approvalRecorder(expect = Number.POSITIVE_INFINITY, answersVotes = false): Promise<ApprovalSignal[]> {
  const received: ApprovalSignal[] = [];
  setHandler(approvalSignal, (s) => {
    received.push(s);
  });
  if (answersVotes) {
    setHandler(voteUpdate, (s) => {
      received.push(s);
      return answerVote(s);
    });
  }
  setHandler(receivedQuery, () => received);
  let view: SessionStateView | undefined;
  setHandler(setViewSignal, (v) => {
    view = v;
  });
  setHandler(stateQuery, () => {
    if (!view) throw new Error('no session view set');
    return view;
  });
  let handled = 0;
  while (handled < expect) {
    await condition(() => received.length > handled);
    const s = received[handled++];
    if (s) await observed(s);
  }
  return received;
}
