/**
 * `gatehouse approvals show <id>`: everything an approver judges, on one screen — what will run
 * (tool, arguments as the audit trail redacts them, blast radius), why it was held (rules and
 * reasons), who asked (agent, owner, intent, reasoning, the session's last calls), by when
 * (deadline, escalation level, who may vote now and who else must), and what a signature covers
 * (the call digest) — after the row was checked against the session's own pending approval.
 */
import { approvalsSoFar } from '../../approvals/messages';
import { groupsAllowedNow } from '../../approvals/ladder';
import type { ApprovalRecord } from '../../approvals/types';
import type { ApprovalStore } from '../../approvals/store';
import { checkShownRow, type SessionStateReader } from '../../client/decide';
import type { SessionStateView } from '../../workflows/contract';
import { hiddenValuesWarning, redactedCountIn } from '../../approvals/redaction';
import { shownJson, shownLine, shownName, shownQuoted } from '../../approvals/shown-text';
import type { CommandIo } from '../command-io';

/** `in 5m` / `2h ago`: a time relative to `now`. */
export function relativeTime(isoTime: string, now: number): string {
  const ms = Date.parse(isoTime) - now;
  const abs = Math.abs(ms);
  const text = abs < 60_000 ? `${Math.round(abs / 1000)}s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)}m` : `${(abs / 3_600_000).toFixed(1)}h`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** A short, one-line rendering of arguments for a listing (`approvals list`'s ARGS column; `approvals show` has them whole). */
export function argsSummary(args: Readonly<Record<string, unknown>>, width = 40): string {
  const text = shownLine(Object.entries(args).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' '));
  return text.length > width ? `${text.slice(0, width - 1)}…` : text || '-';
}

function section(title: string, lines: readonly string[]): string[] {
  return [title, ...lines.map((l) => `  ${l}`), ''];
}

/**
 * How a decided row ended, on one line. Only an approval or a denial names who decided: the
 * workflow stores the approvals collected so far as `decidedBy` of an expired or cancelled one
 * too, and those people decided nothing — the deadline, or the session's halt, ended it.
 */
function outcomeLine(r: ApprovalRecord): string {
  const why = r.reason ? `: ${shownQuoted(r.reason)}` : '';
  const at = r.decidedAt ?? '-';
  switch (r.status) {
    case 'approved':
    case 'denied':
      return `decided    ${at} by ${r.decidedBy.join(', ') || '-'}${why}`;
    case 'expired':
      return `expired    ${at}: nobody decided by its deadline ${r.deadline}, so it was denied automatically`;
    case 'cancelled':
      return `cancelled  ${at}: the session was halted before anyone decided${why}`;
    case 'pending':
      return `deadline   ${r.deadline}`;
  }
}

/**
 * The approvals an expired or cancelled row had collected (its `decidedBy`), labelled as such:
 * never as who decided. Undefined when there were none, and for any other status.
 */
function approvalsSoFarLine(r: ApprovalRecord): string | undefined {
  const partial = approvalsSoFar(r);
  return partial ? `approvals so far, counted by the session but not enough to decide: ${partial.join(', ')}` : undefined;
}

/** The screen of one approval, as text lines. */
export function renderApproval(r: ApprovalRecord, view: SessionStateView | undefined, shown: { ok: true } | { ok: false; code: string; message: string } | undefined, now: number): string[] {
  const approvals = r.votes.filter((v) => v.approve).map((v) => v.approver);
  const pending = r.status === 'pending';
  const allowed = pending ? groupsAllowedNow(r, now) : [];
  const level = pending ? allowed.map((g) => g.length).reduce((a, b) => Math.max(a, b), 0) - 1 : undefined;
  const out: string[] = [];
  out.push(`approval ${r.approvalId} · ${r.status}${pending && Date.parse(r.deadline) <= now ? ' (past deadline)' : ''}`);
  if (shown) out.push(shown.ok ? 'checked: this row shows exactly the call the session waits for' : `REFUSED (${shown.code}): ${shown.message} — do not decide it`);
  out.push('');
  out.push(...section('what will run', [
    `tool         ${r.tool}`,
    `arguments    ${shownJson(r.redactedArgs).split('\n').join('\n               ')}`,
    `blast radius ${r.blastRadius === undefined ? 'not estimated by this tool' : `${r.blastRadius.toLocaleString('en-US')} rows or objects`}`,
  ]));
  out.push(...section('why it was held', r.decision.reasons.map((x) => `${x.rule}: ${shownLine(x.message)}`)));
  // An agent names any tool it likes, so a denied call's tool is its text too: quoted unless a tool name.
  const recent = view?.lastActions.slice(-5).map((a) => `#${a.sequence} ${shownName(a.tool)} → ${a.status} (${a.verdict}) ${a.at}`) ?? ['(the session did not answer)'];
  out.push(...section('who asked', [
    `agent ${r.agentId} · owner ${r.owner}${r.requirement.fourEyes ? ' (four eyes: the owner may not approve)' : ''} · session ${r.sessionId}`,
    `intent     ${shownQuoted(r.intent)}`,
    `reasoning  ${shownQuoted(r.reasoning)}`,
    'last calls:',
    ...recent.map((l) => `  ${l}`),
  ]));
  const ladder = r.requirement.groups.map((g, i) => `${g}${i === 0 ? '' : ` (after ${Math.round((r.requirement.escalateAfterMs[i - 1] ?? 0) / 60_000)} min)`}: ${(r.groupMembers[g] ?? []).join(', ') || 'nobody'}`);
  out.push(...section('by when, and who decides', [
    pending ? `deadline   ${r.deadline} (${relativeTime(r.deadline, now)}); then denied automatically, never approved` : outcomeLine(r),
    ...[approvalsSoFarLine(r)].filter((l): l is string => l !== undefined),
    ...(pending && level !== undefined ? [`escalation level ${Math.max(0, level)}: may vote now: ${allowed.map((g) => g.join(', ')).join(' + ')}`] : []),
    `ladder     ${ladder.join(' → ')}`,
    `votes      ${approvals.length} of ${r.requirement.approversRequired} approval(s)${approvals.length ? ` (${approvals.join(', ')})` : ''}`,
  ]));
  out.push(...section('what your signature covers', [
    `session ${r.workflowId} (first run ${r.firstRunId}), approval ${r.approvalId}, tool ${r.tool}`,
    `call digest ${r.callDigest} (tool, arguments, policy hash, session state)`,
  ]));
  if (pending) {
    // Right above what signs: the values the person approves without seeing them.
    const unseen = hiddenValuesWarning(redactedCountIn(r.redactedArgs));
    if (unseen) out.push(unseen);
    out.push(`decide: gatehouse approvals approve ${r.approvalId} --digest ${r.callDigest.slice(0, DIGEST_SHOWN)} --as <you>   or   gatehouse approvals deny ${r.approvalId} --as <you> --reason "<why>"`);
  }
  return out;
}

/** How much of the call digest the decide line quotes for `approve --digest` (the least it accepts). */
export const DIGEST_SHOWN = 12;

/** A row's check against its session, as the screen reports it. */
export type ShownState = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * The screen of row `r` and what it rests on: the session's view and, for a pending row, its check
 * against the session (`checkShownRow`, which raises an alert on a mismatch). What `approvals show`
 * prints, and what `approvals approve` prints before it asks or signs.
 */
export async function approvalScreen(store: ApprovalStore, r: ApprovalRecord, state: SessionStateReader | undefined, now: number): Promise<{ readonly lines: string[]; readonly view?: SessionStateView; readonly shown?: ShownState }> {
  const view = state ? await state(r.workflowId).catch(() => undefined) : undefined;
  const check = state && r.status === 'pending' ? await checkShownRow({ store, state }, r, now).catch(() => undefined) : undefined;
  const shown = check === undefined ? undefined : check.ok ? ({ ok: true } as const) : { ok: false as const, code: check.code, message: check.message };
  return { lines: renderApproval(r, view, shown, now), ...(view ? { view } : {}), ...(shown ? { shown } : {}) };
}

/** `approvals show <id>`: 0, or 1 for an unknown id. */
export async function showApproval(store: ApprovalStore, id: string, opts: { json?: boolean; state?: SessionStateReader }, io: CommandIo, now = Date.now()): Promise<number> {
  const r = await store.get(id);
  if (!r) {
    io.err(`gatehouse: no approval \`${id}\`: \`gatehouse approvals list\` shows the pending ones`);
    return 1;
  }
  const { lines, view, shown } = await approvalScreen(store, r, opts.state, now);
  if (opts.json) {
    io.out(JSON.stringify({ ...r, ...(shown ? { shown } : {}), ...(view ? { lastActions: view.lastActions } : {}) }, null, 2));
    return 0;
  }
  io.out(lines.join('\n').trimEnd());
  return 0;
}
