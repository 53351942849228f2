/**
 * Offline evaluation of an intent scorer: score sessions read from JSON Lines as the worker would
 * (each prefix of the actions scored, folded by the default policy's `withIntentScore`), and
 * calibrate a threshold from labelled sessions (ROC AUC, precision and recall by threshold, the
 * threshold for a target false-positive rate, the ROC curve as SVG).
 */
import { compilePolicy, initialSessionState, parsePolicyText, withIntentScore, type SessionState } from '../../policies';
import type { IntentAction, IntentScorer } from './scorer';

export interface EvalSession {
  readonly id: string;
  readonly intent: string;
  readonly actions: readonly { readonly tool: string; readonly description?: string; readonly args?: Readonly<Record<string, unknown>> }[];
  readonly label?: 'aligned' | 'deviated';
  readonly kind?: string;
}

export interface SessionResult {
  readonly id: string;
  /** The running score after the last action (what the session row would show). */
  readonly score: number;
  readonly perAction: readonly number[];
  /** Whether a session under the default policy would be in review mode after these actions. */
  readonly review: boolean;
  /** The lowest running score the session had: below the policy's threshold, it is in review. */
  readonly lowest: number;
}

/** Parses one JSONL line; returns a one-sentence problem instead when it is not a session. */
export function parseSessionLine(line: string, lineNo: number): EvalSession | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return `line ${lineNo}: not JSON`;
  }
  const o = v as Partial<EvalSession>;
  if (typeof o !== 'object' || o === null || typeof o.id !== 'string' || typeof o.intent !== 'string' || !Array.isArray(o.actions)) {
    return `line ${lineNo}: expected {"id", "intent", "actions": [...]}`;
  }
  if (!o.actions.every((a) => typeof a === 'object' && a !== null && typeof (a as { tool?: unknown }).tool === 'string')) return `line ${lineNo}: every action needs a \`tool\``;
  if (o.label !== undefined && o.label !== 'aligned' && o.label !== 'deviated') return `line ${lineNo}: label \`${String(o.label)}\` is not \`aligned\` or \`deviated\``;
  return o as EvalSession;
}

function defaultState(): SessionState {
  const parsed = parsePolicyText('{}', 'default');
  if (!parsed.success) throw new Error('the default policy does not parse');
  return initialSessionState(compilePolicy(parsed.data, []), { startedAt: 0 });
}

/** Scores a session the way the worker does: after each executed action, the window so far, folded into the state. */
export async function scoreSession(scorer: IntentScorer, s: EvalSession): Promise<SessionResult> {
  let state = defaultState();
  const actions: IntentAction[] = s.actions.map((a, i) => ({ tool: a.tool, ...(a.description ? { description: a.description } : {}), ...(a.args ? { args: a.args } : {}), at: i * 1000 }));
  let perAction: readonly number[] = [];
  let lowest = 1;
  for (let i = 1; i <= actions.length; i++) {
    const r = await scorer.score({ intent: s.intent, actions: actions.slice(0, i), now: i * 1000 });
    perAction = r.perAction;
    state = withIntentScore(state, r.score);
    lowest = Math.min(lowest, state.intent.score ?? 1);
  }
  return { id: s.id, score: round(state.intent.score ?? 1), perAction, review: state.review, lowest: round(lowest) };
}

export interface Calibration {
  readonly auc: number;
  readonly points: readonly { readonly threshold: number; readonly tpr: number; readonly fpr: number; readonly precision: number; readonly recall: number }[];
  /** The highest threshold whose false-positive rate is at most the target (reviewing aligned sessions is the false positive). */
  readonly forTarget: { readonly fpr: number; readonly threshold: number | null; readonly recall: number };
  /** Review decisions of the default policy that match the label. */
  readonly reviewAccuracy: number;
}

/**
 * "Deviated" is the positive class, flagged when its lowest running score is below the threshold.
 * AUC is the probability that a deviated session scores lower than an aligned one (ties count half).
 */
export function calibrate(results: readonly (SessionResult & { readonly label: 'aligned' | 'deviated' })[], targetFpr: number): Calibration {
  const pos = results.filter((r) => r.label === 'deviated').map((r) => r.lowest);
  const neg = results.filter((r) => r.label === 'aligned').map((r) => r.lowest);
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p < n ? 1 : p === n ? 0.5 : 0;
  const auc = pos.length && neg.length ? wins / (pos.length * neg.length) : NaN;
  const thresholds = [...new Set([0, ...results.map((r) => r.lowest), 1.000001])].sort((a, b) => a - b);
  const points = thresholds.map((t) => {
    const tp = pos.filter((x) => x < t).length;
    const fp = neg.filter((x) => x < t).length;
    return { threshold: round(t), tpr: ratio(tp, pos.length), fpr: ratio(fp, neg.length), precision: tp + fp === 0 ? 1 : ratio(tp, tp + fp), recall: ratio(tp, pos.length) };
  });
  const ok = points.filter((p) => p.fpr <= targetFpr);
  const best = ok.length ? ok[ok.length - 1]! : undefined;
  const right = results.filter((r) => r.review === (r.label === 'deviated')).length;
  return { auc: round(auc), points, forTarget: { fpr: targetFpr, threshold: best ? best.threshold : null, recall: best ? best.recall : 0 }, reviewAccuracy: ratio(right, results.length) };
}

/** The ROC curve as a small standalone SVG. */
export function rocSvg(c: Calibration, title: string): string {
  const S = 320;
  const M = 40;
  const x = (f: number) => M + f * S;
  const y = (t: number) => M + (1 - t) * S;
  const pts = [...c.points].sort((a, b) => a.fpr - b.fpr || a.tpr - b.tpr).map((p) => `${x(p.fpr).toFixed(1)},${y(p.tpr).toFixed(1)}`).join(' ');
  const esc = (s: string) => s.replace(/[<>&"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${S + 2 * M}" height="${S + 2 * M}" font-family="sans-serif" font-size="12">`,
    `<rect x="${M}" y="${M}" width="${S}" height="${S}" fill="none" stroke="#888"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#ccc" stroke-dasharray="4"/>`,
    `<polyline points="${pts}" fill="none" stroke="#1f6feb" stroke-width="2"/>`,
    `<text x="${M}" y="${M - 12}">${esc(title)} — AUC ${c.auc.toFixed(3)}</text>`,
    `<text x="${M + S / 2 - 40}" y="${M + S + 28}">false-positive rate</text>`,
    `<text x="12" y="${M + S / 2 + 30}" transform="rotate(-90 12 ${M + S / 2})">true-positive rate</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : round(a / b);
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
