/**
 * Alerts a session's own trail raises: the moments a human should look at, read from the events
 * the workflow already writes — a forbidden transition or an always-blocked tool tried, a bound
 * or a budget hit, a refused approval vote, an approval nobody answered, a halt, a move into
 * read-only, closed or review mode. Pure; a trace shows them next to the `alerts` table's rows.
 * Which denials raise one is the catalogue's `alert` mark (`policies/rules.ts`). Repeats of one
 * alert (a runaway agent hitting its budget 500 times) are told once, counted, with the latest
 * occurrence's message when it differs from the first's (the 500th may be far worse).
 */
import { RULES, raisesAlert } from '../policies/rules';
import type { AlertView } from './queries';
import type { AuditEventInput } from './types';

/** Modes a session enters only when something went wrong. */
export const ALERT_MODES: readonly string[] = ['read-only', 'closed', 'review'];

/** The rules whose denials raise an alert (readers filter `decided` events on them). */
export const ALERTING_RULES: readonly string[] = Object.keys(RULES).filter(raisesAlert);

/** The event kinds that can raise an alert. */
export const ALERT_EVENT_KINDS: readonly string[] = ['decided', 'alert', 'expired', 'halted', 'mode-changed'];

function detailText(e: AuditEventInput, key: string): string | undefined {
  const v = e.detail?.[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** The alert one event raises, if any (kind, message; `tool` groups repeats). */
function alertOf(e: AuditEventInput): { kind: string; message: string } | undefined {
  switch (e.kind) {
    case 'decided': {
      if (e.decision?.verdict !== 'deny') return undefined;
      const reason = e.decision.reasons.find((r) => raisesAlert(r.rule));
      return reason ? { kind: reason.rule, message: `${e.tool ?? 'a call'} denied: ${reason.message}` } : undefined;
    }
    case 'alert': {
      const rule = detailText(e, 'rule') ?? 'alert';
      return { kind: rule, message: detailText(e, 'message') ?? e.error ?? 'raised' };
    }
    case 'expired':
      return { kind: 'approval.expired', message: `${e.tool ?? 'a call'}: no one decided within the deadline; denied automatically` };
    case 'halted': {
      const by = e.approver ?? detailText(e, 'by');
      const reason = detailText(e, 'reason');
      return { kind: 'session.halted', message: `halted${by ? ` by ${by}` : ''}${reason ? `: ${reason}` : ''}` };
    }
    case 'mode-changed': {
      const to = detailText(e, 'to');
      if (to === undefined || !ALERT_MODES.includes(to)) return undefined;
      const score = typeof e.detail?.intentScore === 'number' ? ` (intent alignment ${e.detail.intentScore.toFixed(2)})` : '';
      return { kind: `mode.${to}`, message: `the session moved to ${to} mode${score}` };
    }
    default:
      return undefined;
  }
}

/** Repeats of one alert (kind and tool) told once: the first occurrence, the latest, how many. */
export interface AlertRun {
  readonly first: AlertView;
  readonly latest: AlertView;
  readonly count: number;
}

/**
 * A session's alerts as runs of repeats, in order of first occurrence. `startsNewRun(first, e)`
 * true makes `e` open a new run instead of joining the one that began with `first` (the console:
 * `e` came after that run was reviewed, so a verdict never covers what its reviewer did not see).
 */
export function alertRuns<E extends AuditEventInput>(events: readonly E[], startsNewRun: (first: AlertView, e: E) => boolean = () => false): AlertRun[] {
  const runs: { first: AlertView; latest: AlertView; count: number }[] = [];
  const open = new Map<string, (typeof runs)[number]>();
  for (const e of events) {
    const a = alertOf(e);
    if (a === undefined) continue;
    const view: AlertView = { kind: a.kind, message: a.message, at: e.at };
    const key = `${a.kind}\u0000${e.tool ?? ''}`;
    const run = open.get(key);
    if (run && !startsNewRun(run.first, e)) {
      run.latest = view;
      run.count += 1;
      continue;
    }
    const started = { first: view, latest: view, count: 1 };
    runs.push(started);
    open.set(key, started);
  }
  return runs;
}

/** A run's message: the first occurrence's; repeated, `(×n)` and the latest's message when it differs. */
export function runMessage(run: AlertRun): string {
  if (run.count === 1) return run.first.message;
  const latest = run.latest.message === run.first.message ? '' : `; the latest: ${run.latest.message}`;
  return `${run.first.message} (×${run.count}${latest})`;
}

/** The alerts of a session's events, in order of first occurrence; repeats counted as `(×n)`. */
export function eventAlerts(events: readonly AuditEventInput[]): AlertView[] {
  return alertRuns(events).map((run) => ({ ...run.first, message: runMessage(run) }));
}
