/**
 * Click to resume: the time from a signed Slack click POSTed to the real Bolt app until the
 * session's workflow has resumed on the vote (its next step, an activity, runs).
 *
 * Path measured: HTTP POST → Bolt signature verification → ack → decide() (row lock, checks,
 * vote insert, the service's Ed25519 signature over the vote) → Temporal `vote` update → workflow
 * task (the update answered) → activity task in the worker. Local servers
 * (Temporal dev server, embedded PostgreSQL, fake Slack Web API), one click at a time.
 *
 * `npm run bench:approvals` (CLICKS=100 by default). Last line: one JSON object.
 */
import { performance } from 'node:perf_hooks';
import { buttonClickBody, startHarness, USERS } from '../test/approvals/helpers';
import type { ApprovalSignal } from '../workflows/contract';

const CLICKS = Number(process.env.CLICKS ?? 100);
const WARMUP = 5;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** The approval a signed vote is for (the envelope's payload, read without verifying: a timing aid only). */
function approvalIdOf(s: ApprovalSignal): string {
  const payload = JSON.parse(Buffer.from(s.payload, 'base64').toString('utf8')) as { approvalId?: unknown };
  return typeof payload.approvalId === 'string' ? payload.approvalId : '';
}

async function main(): Promise<void> {
  const resumed = new Map<string, (at: number) => void>();
  const h = await startHarness({
    prefix: 'approvals_bench',
    observed: (s: ApprovalSignal) => resumed.get(approvalIdOf(s))?.(performance.now()),
  });
  let result: { p50: number; p99: number; answeredP50: number; answeredP99: number } | undefined;
  try {
    const total = CLICKS + WARMUP;
    const approvals = [];
    for (let i = 0; i < total; i++) approvals.push(await h.newApproval());

    const samples: number[] = [];
    /** Click → the app has handled it: the session answered the vote and the message shows it. */
    const answeredSamples: number[] = [];
    for (let i = 0; i < total; i++) {
      const a = approvals[i]!;
      const body = buttonClickBody({ actionId: 'gatehouse_approve', approvalId: a.req.approvalId, user: USERS.alice, channel: a.channel, ts: a.ts });
      const done = new Promise<number>((resolve) => resumed.set(a.req.approvalId, resolve));
      const handled = h.nextInteraction((e) => e.approvalId === a.req.approvalId);
      const t0 = performance.now();
      const status = await h.post(body);
      if (status !== 200) throw new Error(`the app answered ${status} to a signed click`);
      const t1 = await done;
      resumed.delete(a.req.approvalId);
      // The workflow resumes before the click is done (it answers the vote once its trail has it): each click ends before the next.
      await handled;
      const t2 = performance.now();
      if (i >= WARMUP) {
        samples.push(t1 - t0);
        answeredSamples.push(t2 - t0);
      }
    }
    samples.sort((x, y) => x - y);
    const p50 = percentile(samples, 50);
    const p99 = percentile(samples, 99);
    const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
    process.stdout.write(`clicks measured: ${samples.length} (after ${WARMUP} warm-up), one at a time\n`);
    process.stdout.write(`min ${samples[0]!.toFixed(1)} ms · mean ${mean.toFixed(1)} ms · p50 ${p50.toFixed(1)} ms · p99 ${p99.toFixed(1)} ms · max ${samples.at(-1)!.toFixed(1)} ms\n`);
    answeredSamples.sort((x, y) => x - y);
    process.stdout.write(`click → answered and shown: p50 ${percentile(answeredSamples, 50).toFixed(1)} ms · p99 ${percentile(answeredSamples, 99).toFixed(1)} ms\n`);
    result = { p50, p99, answeredP50: percentile(answeredSamples, 50), answeredP99: percentile(answeredSamples, 99) };
  } finally {
    await h.close();
  }
  // Printed after the harness is closed, so it stays the last line.
  process.stdout.write(`${JSON.stringify({ temporal: 'dev-memory', click_to_resume_p50_ms: Number(result.p50.toFixed(1)), click_to_resume_p99_ms: Number(result.p99.toFixed(1)), click_to_answered_p50_ms: Number(result.answeredP50.toFixed(1)), click_to_answered_p99_ms: Number(result.answeredP99.toFixed(1)) })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:approvals: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
