/**
 * Decision-level traces: the story of one session, one plain sentence per action with its
 * timings ("the agent proposed …; the policy decided APPROVAL (…); eng-007 denied: '…'; nothing
 * ran"), and the same facts in the seed's JSON shape for machines. Building and rendering are
 * pure; `loadTrace` reads the rows. Text others wrote (a reason, a tool's error, who halted) is
 * quoted so that it cannot read as another event of the same sentence.
 */
import type { Pool } from 'pg';
import type { Decision } from '../policies/types';
import { approvalOf } from '../policies/decision';
import type { AuditEventInput } from './types';
import { eventAlerts } from './alerts';
import { canonicalJson } from './hashing';
import { shownLine, shownName, shownQuoted } from '../approvals/shown-text';
import { getSession, readAlerts, readEvents } from './queries';
import type { AlertView } from './queries';
import type { SessionView } from './rows';

/** Where one proposal ended. `pending` while it waits for a human or its tool. */
export type ActionStatus = 'executed' | 'denied' | 'failed' | 'expired' | 'pending';

/** One proposal of the session and everything that happened to it. */
export interface ActionStory {
  readonly proposalSeq: number;
  readonly at: string;
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly status: ActionStatus;
  readonly events: readonly AuditEventInput[];
  /** The decision that settled the call: the first, unless the re-check just before it ran refused it. */
  readonly decision?: Decision;
  readonly tokenCost?: number;
  /** The tool's own run time when it ran; otherwise the time from proposal to outcome. */
  readonly latencyMs: number;
  readonly sentence: string;
}

/** A session-level event (start, halt, pause, mode change, end…) told as a sentence. */
export interface SessionNote {
  readonly seq: number;
  readonly at: string;
  readonly sentence: string;
}

/** Everything a trace shows. */
export interface SessionTrace {
  readonly session: SessionView;
  readonly actions: readonly ActionStory[];
  readonly notes: readonly SessionNote[];
  readonly alerts: readonly AlertView[];
  readonly eventCount: number;
  readonly totalTimeMs: number;
}

/** The seed article's trace shape (`--json`). */
export interface TraceJson {
  readonly sessionId: string;
  readonly declaredIntent: string;
  readonly executedActions: readonly {
    readonly timestamp: string;
    readonly action: string;
    readonly parameters: Readonly<Record<string, unknown>>;
    readonly result: 'success' | 'blocked' | 'error' | 'pending';
    readonly tokenCost?: number;
    readonly latencyMs: number;
    /** Gatehouse additions: the proposal's position, outcome and the rule ids that decided it. */
    readonly sequence: number;
    readonly status: ActionStatus;
    readonly verdict?: Decision['verdict'];
    readonly rules: readonly string[];
  }[];
  /** 0–100: how far the session strayed from its declared intent (100 − alignment); null when never scored. */
  readonly intentDeviation: number | null;
  readonly alertsGenerated: readonly string[];
  /** Milliseconds from the session's start to its end (or its last event while it runs). */
  readonly totalTime: number;
  readonly finalState: string;
}

/** Reads a session's rows and builds its trace (`UnknownSessionError` when not recorded). */
export async function loadTrace(pool: Pool, sessionId: string): Promise<SessionTrace> {
  const { policy: _policy, tools: _tools, ...session } = await getSession(pool, sessionId);
  // The story never tells the agent's reasoning nor a tool's result: neither is read.
  const [links, alerts] = await Promise.all([readEvents(pool, sessionId, { withChain: false, storyOnly: true }), readAlerts(pool, sessionId)]);
  return buildTrace(session, links.map((l) => l.event), alerts);
}


/** Groups events by proposal and tells each one. Pure. */
export function buildTrace(session: SessionView, events: readonly AuditEventInput[], alerts: readonly AlertView[]): SessionTrace {
  const groups = new Map<number, AuditEventInput[]>();
  const notes: SessionNote[] = [];
  for (const e of events) {
    if (e.proposalSeq !== undefined) {
      const list = groups.get(e.proposalSeq) ?? [];
      list.push(e);
      groups.set(e.proposalSeq, list);
    } else {
      notes.push({ seq: e.seq, at: e.at, sentence: noteSentence(e) });
    }
  }
  const actions = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([seq, list]) => tellAction(seq, list));
  const start = Date.parse(session.startedAt);
  const lastEvent = events[events.length - 1];
  const end = session.endedAt !== undefined ? Date.parse(session.endedAt) : lastEvent !== undefined ? Date.parse(lastEvent.at) : start;
  // The alerts table's rows and the alerts the trail itself raises, in time order.
  const allAlerts = [...alerts, ...eventAlerts(events)].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { session, actions, notes, alerts: allAlerts, eventCount: events.length, totalTimeMs: Math.max(0, end - start) };
}

function tellAction(proposalSeq: number, events: readonly AuditEventInput[]): ActionStory {
  const proposed = events.find((e) => e.kind === 'proposed') ?? events[0]!;
  const decided = events.find((e) => e.decision !== undefined);
  const first = decided?.decision;
  // An approved call is decided again just before it runs (`stage: 'before-run'`): a refusal then is
  // final, recorded by that decision alone (no `denied` event), and it is the call's verdict.
  const refusal = events.find((e) => e !== decided && e.kind === 'decided' && e.decision?.verdict === 'deny');
  const decision = refusal?.decision ?? first;
  const recorded = proposed.tool ?? events.find((e) => e.tool !== undefined)?.tool;
  const tool = recorded === undefined ? '(unknown tool)' : shownName(recorded);
  const args = proposed.args ?? events.find((e) => e.args !== undefined)?.args ?? {};
  const t0 = Date.parse(proposed.at);
  const parts: string[] = [];

  let sentence = `the agent proposed ${tool}(${formatArgs(args)})`;
  const blast = blastRadius(events);
  if (blast !== undefined) sentence += ` (est. ${COUNT.format(blast)} rows)`;
  if (proposed.tokenCost !== undefined) sentence += ` [${COUNT.format(proposed.tokenCost)} tokens]`;
  parts.push(sentence);
  if (first !== undefined) parts.push(`the policy decided ${decisionWords(first)}`);

  let status: ActionStatus = 'pending';
  let outcome: AuditEventInput | undefined;
  for (const e of events) {
    const after = since(t0, e.at);
    switch (e.kind) {
      case 'approval-requested': {
        const group = approverGroup(e, first);
        parts.push(`approval requested${group ? ` from ${group}` : ''}`);
        break;
      }
      case 'escalated': {
        const to = stringDetail(e, 'group') ?? stringDetail(e, 'to') ?? (Array.isArray(e.detail?.groups) ? String(e.detail.groups[0]) : undefined);
        parts.push(`escalated${to ? ` to ${to}` : ''} after ${after}`);
        break;
      }
      case 'approved':
        parts.push(`${e.approver !== undefined ? shownWho(e.approver) : 'an approver'} approved after ${after}${quoteReason(e)}`);
        break;
      case 'denied':
        // A policy denial is already told by "the policy decided DENY"; a human one names who.
        if (e.approver !== undefined) parts.push(`${shownWho(e.approver)} denied after ${after}${quoteReason(e)}`);
        else if (decision?.verdict !== 'deny') parts.push(`denied${quoteReason(e)}`);
        status = 'denied';
        break;
      case 'expired':
        parts.push(`no one decided within the deadline: denied automatically after ${after}`);
        status = 'expired';
        outcome = e;
        break;
      case 'executed':
        parts.push(`it ran in ${formatMs(e.latencyMs ?? 0)}${e.resultStatus && e.resultStatus !== 'executed' ? `: ${e.resultStatus}` : ''}`);
        status = 'executed';
        outcome = e;
        break;
      case 'failed':
        parts.push(`it failed after ${formatMs(e.latencyMs ?? 0)}${e.error ? `: ${quoted(e.error)}` : ''}`);
        status = 'failed';
        outcome = e;
        break;
      case 'halted':
        parts.push(`the session was halted${e.approver ? ` by ${shownWho(e.approver)}` : ''}${quoteReason(e)}`);
        break;
      case 'decided':
        if (e === refusal) {
          parts.push(`just before it ran, the policy decided ${decisionWords(refusal.decision!)}`);
          status = 'denied';
        }
        break;
      default:
        break;
    }
  }
  if (status === 'pending' && decision?.verdict === 'deny') status = 'denied';
  if (status === 'denied' || status === 'expired') parts.push('nothing ran');
  if (status === 'pending') parts.push(decision?.verdict === 'approve' ? 'waiting for approval' : 'not finished');

  const last = outcome ?? events[events.length - 1]!;
  const latencyMs = outcome?.latencyMs ?? Math.max(0, Date.parse(last.at) - t0);
  return {
    proposalSeq, at: proposed.at, tool, args, status, events,
    ...(decision !== undefined ? { decision } : {}),
    ...(proposed.tokenCost !== undefined ? { tokenCost: proposed.tokenCost } : {}),
    latencyMs,
    sentence: parts.join('; '),
  };
}

/** One formatter for every count (building one per call costs more than the whole sentence). */
const COUNT = new Intl.NumberFormat('en-US');

const VERDICT_WORD: Record<string, string> = { allow: 'ALLOW', approve: 'APPROVAL', deny: 'DENY' };

/** `APPROVAL (rule: message; …)`. */
function decisionWords(decision: Decision): string {
  const reasons = decision.reasons.map((r) => `${r.rule}: ${r.message}`).join('; ');
  return `${VERDICT_WORD[decision.verdict] ?? decision.verdict.toUpperCase()}${reasons ? ` (${reasons})` : ''}`;
}

function noteSentence(e: AuditEventInput): string {
  // Who halted or paused is what the signal said (an agent halting itself names itself as it likes).
  const named = e.approver ?? stringDetail(e, 'by');
  const by = named !== undefined ? shownWho(named) : undefined;
  switch (e.kind) {
    case 'session-started': return 'the session started';
    case 'halted': return `the session was halted${by ? ` by ${by}` : ''}${quoteReason(e)}: nothing more runs`;
    case 'paused': return `the session was paused${by ? ` by ${by}` : ''}${quoteReason(e)}`;
    case 'resumed': return `the session was resumed${by ? ` by ${by}` : ''}`;
    case 'mode-changed': {
      const to = stringDetail(e, 'to') ?? stringDetail(e, 'mode') ?? e.resultStatus;
      return `the session moved to ${to ?? 'another'} mode${quoteReason(e)}`;
    }
    case 'alert': return `alert: ${stringDetail(e, 'message') ?? e.error ?? stringDetail(e, 'kind') ?? 'raised'}`;
    case 'session-ended': {
      const state = stringDetail(e, 'finalState') ?? e.resultStatus;
      return `the session ended${state ? `: ${state}` : ''}${quoteReason(e)}`;
    }
    default: return `${e.kind}${e.tool ? ` ${shownName(e.tool)}` : ''}`;
  }
}

function stringDetail(e: AuditEventInput, key: string): string | undefined {
  const v = e.detail?.[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function quoteReason(e: AuditEventInput): string {
  const reason = stringDetail(e, 'reason') ?? (e.kind === 'denied' || e.kind === 'approved' ? e.error : undefined);
  return reason ? `: ${quoted(reason)}` : '';
}

/**
 * Text someone else wrote, in quotes it cannot close: `'as written'` when it holds no `'` and
 * nothing hidden, else `shownQuoted` (JSON quotes, its quotes and hidden characters escaped).
 * A reason `done'; the session was resumed by ops-alice: 'ok` would otherwise read as two events.
 */
function quoted(text: string): string {
  return !text.includes("'") && shownLine(text) === text ? `'${text}'` : shownQuoted(text);
}

/** Who approved, halted or paused: as written when a plain name, with an optional `kind:` (`agent:billing-bot`), else quoted. */
function shownWho(name: string): string {
  const parts = name.split(':');
  return parts.length <= 2 && parts.every((part) => shownName(part) === part) ? name : shownQuoted(name);
}

function approverGroup(e: AuditEventInput, decision: Decision | undefined): string | undefined {
  const fromDetail = stringDetail(e, 'group') ?? (Array.isArray(e.detail?.groups) ? e.detail.groups.map(String).join(', then ') : undefined);
  return fromDetail ?? (decision ? approvalOf(decision)?.groups[0] : undefined);
}

function blastRadius(events: readonly AuditEventInput[]): number | undefined {
  for (const e of events) {
    const v = e.detail?.blastRadius;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

/** `key=value` pairs, values as canonical JSON (keys sorted: jsonb reorders them), each cut to keep a sentence readable. */
export function formatArgs(args: Readonly<Record<string, unknown>>): string {
  return Object.keys(args).sort().map((k) => {
    const text = canonicalJson(args[k]);
    return `${shownName(k)}=${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
  }).join(', ');
}

/** 950 ms, 3.2 s, 2m 05s, 1h 03m. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function since(t0: number, at: string): string {
  return formatMs(Math.max(0, Date.parse(at) - t0));
}

/** How a session ended, as a person would say it (`blocked`: its limits closed it). */
const FINAL_STATE_WORDS: Readonly<Record<string, string>> = {
  completed: 'completed',
  blocked: 'closed by its limits',
  cancelled: 'cancelled',
  error: 'with an error',
  halted: 'halted (kill switch)',
};

/** The trace as text: a header, then one line per action or session event in order. */
export function renderTraceText(trace: SessionTrace): string {
  const s = trace.session;
  const start = Date.parse(s.startedAt);
  const out: string[] = [];
  // The agent wrote the intent, its tools' names and arguments: each is kept to its own line.
  out.push(shownLine(`session ${s.sessionId} · agent ${s.agentId} · owner ${s.owner}${s.parentSessionId ? ` · parent ${s.parentSessionId}` : ''}`));
  out.push(`intent: ${shownQuoted(s.intent)}`);
  const score = s.intentScore !== undefined ? ` · intent alignment ${s.intentScore.toFixed(2)}` : '';
  out.push(`started ${s.startedAt} · mode ${s.mode} · ${s.finalState ? `ended ${FINAL_STATE_WORDS[s.finalState] ?? s.finalState}` : 'running'} · ${formatMs(trace.totalTimeMs)}${score}${s.flaggedForReview ? ' · FLAGGED FOR REVIEW' : ''}`);
  out.push(`policy ${s.policyHash.slice(0, 12)} · ${trace.actions.length} proposal(s), ${trace.eventCount} event(s)`);
  out.push('');
  const lines: { at: number; seq: number; text: string }[] = [];
  for (const a of trace.actions) {
    lines.push({ at: Date.parse(a.at), seq: a.events[0]?.seq ?? 0, text: `#${a.proposalSeq} ${a.sentence}` });
  }
  for (const n of trace.notes) lines.push({ at: Date.parse(n.at), seq: n.seq, text: n.sentence });
  lines.sort((a, b) => a.seq - b.seq);
  for (const l of lines) out.push(`${`+${formatMs(Math.max(0, l.at - start))}`.padStart(10)}  ${shownLine(l.text)}`);
  if (trace.alerts.length > 0) {
    out.push('');
    out.push('alerts:');
    for (const a of trace.alerts) out.push(`  ${a.at} ${a.kind}: ${shownLine(a.message)}`);
  }
  return out.join('\n');
}

/** The trace in the seed's JSON shape. */
export function traceToJson(trace: SessionTrace): TraceJson {
  const s = trace.session;
  return {
    sessionId: s.sessionId,
    declaredIntent: s.intent,
    executedActions: trace.actions.map((a) => ({
      timestamp: a.at,
      action: a.tool,
      parameters: a.args,
      result: RESULT_OF[a.status],
      ...(a.tokenCost !== undefined ? { tokenCost: a.tokenCost } : {}),
      latencyMs: a.latencyMs,
      sequence: a.proposalSeq,
      status: a.status,
      ...(a.decision !== undefined ? { verdict: a.decision.verdict } : {}),
      rules: a.decision?.reasons.map((r) => r.rule) ?? [],
    })),
    intentDeviation: s.intentScore === undefined ? null : Math.round(Math.min(1, Math.max(0, 1 - s.intentScore)) * 100),
    alertsGenerated: trace.alerts.map((a) => `${a.kind}: ${a.message}`),
    totalTime: trace.totalTimeMs,
    finalState: s.finalState ?? 'running',
  };
}

const RESULT_OF: Record<ActionStatus, TraceJson['executedActions'][number]['result']> = {
  executed: 'success', denied: 'blocked', expired: 'blocked', failed: 'error', pending: 'pending',
};
