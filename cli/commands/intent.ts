/**
 * `gatehouse intent score [--json] <file.jsonl>` and `gatehouse intent calibrate <labelled.jsonl>`:
 * offline evaluation of the intent scorer the worker would build (GATEHOUSE_INTENT_SCORER and
 * friends, see activities/intent/config.ts). `score` prints, per session, the running score, each
 * action's score and whether the default policy would be in review; `calibrate` prints ROC AUC,
 * precision and recall by threshold, the threshold for a target false-positive rate, the review
 * accuracy per kind, and writes the ROC curve as SVG.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createIntentScorer, type IntentScorer } from '../../activities/intent';
import { intentScorerFor } from '../../worker/devstack/embeddings';
import { calibrate, parseSessionLine, rocSvg, scoreSession, type EvalSession, type SessionResult } from '../../activities/intent/evaluate';
import { CommandError } from '../command-error';
import { processIo, type CommandIo } from '../command-io';

/** Bad input to an `intent` command. */
export class IntentCommandError extends CommandError {
  constructor(message: string) {
    super('IntentCommandError', message);
  }
}

export function readSessions(file: string): EvalSession[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new IntentCommandError(`cannot read sessions file \`${file}\`: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const out: EvalSession[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const s = parseSessionLine(line, i + 1);
    if (typeof s === 'string') throw new IntentCommandError(`\`${file}\` ${s}`);
    out.push(s);
  });
  if (out.length === 0) throw new IntentCommandError(`\`${file}\` holds no sessions`);
  return out;
}

async function scoreAll(scorer: IntentScorer, sessions: readonly EvalSession[]): Promise<SessionResult[]> {
  const out: SessionResult[] = [];
  for (const s of sessions) out.push(await scoreSession(scorer, s));
  return out;
}

export async function runIntentScore(file: string, opts: { readonly json?: boolean }, scorer: IntentScorer, io: CommandIo): Promise<void> {
  const results = await scoreAll(scorer, readSessions(file));
  for (const r of results) {
    if (opts.json) io.out(JSON.stringify({ id: r.id, score: r.score, perAction: r.perAction, review: r.review }));
    else io.out(`${r.id}  ${r.score.toFixed(3)}  ${r.review ? 'review' : 'normal'}  [${r.perAction.map((x) => x.toFixed(2)).join(' ')}]`);
  }
}

export interface CalibrateOptions {
  readonly targetFpr: number;
  readonly roc: string;
  readonly json?: boolean;
}

export async function runIntentCalibrate(file: string, opts: CalibrateOptions, scorer: IntentScorer, io: CommandIo): Promise<void> {
  if (!(opts.targetFpr >= 0 && opts.targetFpr <= 1)) throw new IntentCommandError(`invalid --target-fpr \`${opts.targetFpr}\`: expected a number from 0 to 1`);
  const sessions = readSessions(file);
  const unlabelled = sessions.find((s) => s.label === undefined);
  if (unlabelled) throw new IntentCommandError(`session \`${unlabelled.id}\` of \`${file}\` has no label: calibration needs \`"label": "aligned" | "deviated"\` on every line`);
  const results = await scoreAll(scorer, sessions);
  const labelled = results.map((r, i) => ({ ...r, label: sessions[i]!.label!, kind: sessions[i]!.kind ?? sessions[i]!.label! }));
  const c = calibrate(labelled, opts.targetFpr);
  const kinds = [...new Set(labelled.map((r) => r.kind))].map((kind) => {
    const of = labelled.filter((r) => r.kind === kind);
    return { kind, sessions: of.length, reviewRight: of.filter((r) => r.review === (r.label === 'deviated')).length / of.length };
  });
  writeFileSync(opts.roc, rocSvg(c, `intent scorer \`${scorer.kind}\` on ${file}`));
  if (opts.json) {
    io.out(JSON.stringify({ sessions: results.length, scorer: scorer.kind, auc: c.auc, reviewAccuracy: c.reviewAccuracy, forTarget: c.forTarget, kinds, points: c.points, roc: opts.roc }));
    return;
  }
  io.out(`${results.length} sessions, scorer \`${scorer.kind}\`: ROC AUC ${c.auc.toFixed(3)}; the default policy's review decision is right for ${(100 * c.reviewAccuracy).toFixed(1)} %`);
  for (const k of kinds) io.out(`  ${k.kind.padEnd(10)} ${String(k.sessions).padStart(4)} sessions, review right ${(100 * k.reviewRight).toFixed(1)} %`);
  io.out('threshold  precision  recall  false-positive rate');
  const step = Math.max(1, Math.floor(c.points.length / 20));
  c.points.filter((_, i) => i % step === 0 || i === c.points.length - 1).forEach((p) => io.out(`${p.threshold.toFixed(3).padStart(9)}  ${p.precision.toFixed(3).padStart(9)}  ${p.recall.toFixed(3).padStart(6)}  ${p.fpr.toFixed(3).padStart(6)}`));
  io.out(c.forTarget.threshold === null ? `no threshold keeps the false-positive rate at or under ${c.forTarget.fpr}` : `threshold for a false-positive rate ≤ ${c.forTarget.fpr}: reviewBelow ${c.forTarget.threshold} (recall ${c.forTarget.recall.toFixed(3)})`);
  io.out(`ROC curve written to \`${opts.roc}\``);
}

export function registerIntent(program: Command): void {
  const intent = program.command('intent').description('evaluate and calibrate the intent scorer offline (the scorer the worker would build)');
  intent
    .command('score')
    .description('score sessions from JSON Lines: {"id", "intent", "actions": [{"tool", "description", "args"}]} per line')
    .argument('<file>', 'sessions, JSON Lines')
    .option('--json', 'one JSON object per session: {"id", "score", "perAction", "review"}')
    .action(async (file: string, opts: { json?: boolean }) => withStackScorer((scorer) => runIntentScore(file, opts, scorer, processIo)));
  intent
    .command('calibrate')
    .description('ROC AUC, precision and recall by threshold, and the threshold for a target false-positive rate, from labelled sessions')
    .argument('<file>', 'labelled sessions, JSON Lines: the sessions of `intent score` plus "label": "aligned" | "deviated"')
    .option('--target-fpr <rate>', 'false-positive rate to meet (aligned sessions sent to review)', '0.1')
    .option('--roc <file.svg>', 'where to write the ROC curve', 'intent-roc.svg')
    .option('--json', 'one JSON object')
    .action(async (file: string, opts: { targetFpr: string; roc: string; json?: boolean }) =>
      withStackScorer((scorer) => runIntentCalibrate(file, { targetFpr: Number(opts.targetFpr), roc: opts.roc, ...(opts.json ? { json: true } : {}) }, scorer, processIo)),
    );
}

/**
 * Runs `fn` with the scorer `gatehouse start` would give the worker (the local model, started for
 * the command and stopped after it; the synonym fallback only when it cannot start; or what
 * `GATEHOUSE_INTENT_SCORER` names), and says on stderr which one it is.
 */
async function withStackScorer(fn: (scorer: IntentScorer) => Promise<void>): Promise<void> {
  const choice = await intentScorerFor(process.env, (line) => processIo.err(line));
  processIo.err(`intent scorer: ${choice.description}`);
  try {
    await fn(createIntentScorer(choice.config));
  } finally {
    await choice.embeddings?.stop();
  }
}
