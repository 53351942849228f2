/**
 * Alerts a session's own trail raises: the moments a human should look at, read from the events
 * the workflow already writes — a forbidden transition or an always-blocked tool tried, a bound
 * or a budget hit, a refused approval vote, an approval nobody answered, a halt, a move into
 * read-only, closed or review mode. Pure; a trace shows them next to the `alerts` table's rows.
 * Which denials raise one is the catalogue's `alert` mark (`policies/rules.ts`). Repeats of one
 * alert (a runaway agent hitting its budget 500 times) are told once, counted.
 */
import { raisesAlert } from '../policies/rules';
import type { AlertView } from './queries';
import type { AuditEventInput } from './types';

/** Modes a session enters only when something went wrong. */
const ALERT_MODES = new Set(['read-only', 'closed', 'review']);

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
      if (to === undefined || !ALERT_MODES.has(to)) return undefined;
      const score = typeof e.detail?.intentScore === 'number' ? ` (intent alignment ${e.detail.intentScore.toFixed(2)})` : '';
      return { kind: `mode.${to}`, message: `the session moved to ${to} mode${score}` };
    }
    default:
      return undefined;
  }
}

/** The alerts of a session's events, in order of first occurrence; repeats counted as `(×n)`. */
export function eventAlerts(events: readonly AuditEventInput[]): AlertView[] {
  const seen = new Map<string, { alert: AlertView; count: number }>();
  for (const e of events) {
    const a = alertOf(e);
    if (a === undefined) continue;
    const key = `${a.kind}\u0000${e.tool ?? ''}`;
    const known = seen.get(key);
    if (known) known.count += 1;
    else seen.set(key, { alert: { kind: a.kind, message: a.message, at: e.at }, count: 1 });
  }
  return [...seen.values()].map(({ alert, count }) => (count > 1 ? { ...alert, message: `${alert.message} (×${count})` } : alert));
}
