/**
 * Intent scoring on labelled sessions: ROC AUC and the default policy's review accuracy per
 * deviation kind, for the local embedding model and the synonym fallback; the scoring cost per
 * action (p50, one action scored as the worker does after each call, embeddings cache cold for the
 * action) and the model server's memory.
 *
 * Usage: `npm run bench:intent [-- <file.jsonl> …]`. Default files: the repository's evaluation set
 * and the held-out sets written blind (test/fixtures/intent/; see docs/concepts/intent.md).
 * `BENCH_INTENT_URL` uses a model server already running (`…/v1`); `BENCH_INTENT_MISSES=1` lists
 * the sessions each scorer decides wrongly. To compare another model behind the same API:
 * `BENCH_INTENT_MODEL` (its name in the output), `BENCH_INTENT_CALIBRATION=low,high` (its raw
 * similarity calibration; default MiniLM's), `BENCH_INTENT_FALLBACK=0` (skip the synonym scorer).
 * The last line is one JSON object.
 */
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createIntentScorer, MINILM_CALIBRATION, type Calibration, type IntentScorer } from '../activities/intent';
import { calibrate, scoreSession, type EvalSession } from '../activities/intent/evaluate';
import { readSessions } from '../cli/commands/intent';
import { startEmbeddings } from '../worker/devstack/embeddings';

const DEFAULT_FILES = ['test/fixtures/intent/sessions.jsonl', 'test/fixtures/intent/heldout.jsonl', 'test/fixtures/intent/blind2/sessions.jsonl', 'test/fixtures/intent/blind3/sessions.jsonl', 'test/fixtures/intent/blind4/sessions.jsonl', 'test/fixtures/intent/blind5/sessions.jsonl', 'test/fixtures/intent/blind6/sessions.jsonl'];
const MISSES = process.env.BENCH_INTENT_MISSES === '1';
const CALIBRATION = process.env.BENCH_INTENT_CALIBRATION ? calibrationFrom(process.env.BENCH_INTENT_CALIBRATION) : MINILM_CALIBRATION;
const FALLBACK = process.env.BENCH_INTENT_FALLBACK !== '0';

function calibrationFrom(text: string): Calibration {
  const [low, high] = text.split(',').map(Number);
  if (!(Number.isFinite(low) && Number.isFinite(high) && high! > low!)) throw new Error(`invalid BENCH_INTENT_CALIBRATION \`${text}\`: expected low,high`);
  return { low: low!, high: high! };
}

async function evaluate(scorer: IntentScorer, sessions: readonly EvalSession[], name: string) {
  const results = [];
  const costs: number[] = [];
  for (const s of sessions) {
    const r = await scoreSession(scorer, s);
    results.push({ ...r, label: s.label!, kind: s.kind ?? s.label! });
    if (MISSES && r.review !== (s.label === 'deviated')) {
      console.log(`  miss ${name} ${s.id} (${s.kind}) lowest ${r.lowest} per action ${r.perAction.join(' ')}: ${s.intent} → ${s.actions.map((a) => a.tool).join(', ')}`);
    }
    // Cost of one scoring call: the session's last action alone, as a fresh text (uncached).
    const last = s.actions[s.actions.length - 1]!;
    const t = performance.now();
    await scorer.score({ intent: s.intent, actions: [{ ...last, description: `${last.description ?? ''} #${costs.length}`, at: 0 }], now: 0 });
    costs.push(performance.now() - t);
  }
  const c = calibrate(results, 0.05);
  const kinds: Record<string, number> = {};
  for (const k of new Set(results.map((r) => r.kind))) {
    const of = results.filter((r) => r.kind === k);
    kinds[k] = Math.round((1000 * of.filter((r) => r.review === (r.label === 'deviated')).length) / of.length) / 1000;
  }
  costs.sort((a, b) => a - b);
  return { auc: c.auc, reviewAccuracy: c.reviewAccuracy, reviewRightByKind: kinds, thresholdAtFpr05: c.forTarget.threshold, msPerActionP50: Math.round(costs[Math.floor(costs.length / 2)]! * 100) / 100 };
}

async function main() {
  const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : DEFAULT_FILES.filter((f) => existsSync(f));
  const running = process.env.BENCH_INTENT_URL;
  const e = running ? undefined : await startEmbeddings({ timeoutMs: 120_000 });
  const modelName = e?.model ?? process.env.BENCH_INTENT_MODEL ?? 'all-MiniLM-L6-v2-int8';
  try {
    const out: Record<string, unknown> = {};
    for (const file of files) {
      const sessions = readSessions(file);
      const model = await evaluate(createIntentScorer({ kind: 'openai', baseUrl: running ?? e!.url, model: modelName, calibration: CALIBRATION }), sessions, 'model');
      const local = FALLBACK ? await evaluate(createIntentScorer({ kind: 'local' }), sessions, 'fallback') : undefined;
      console.log(`${file} (${sessions.length} sessions)`);
      console.log(`  model ${modelName}: AUC ${model.auc}, review right ${model.reviewAccuracy} ${JSON.stringify(model.reviewRightByKind)}, p50 ${model.msPerActionP50} ms/action`);
      if (local) console.log(`  synonym fallback: AUC ${local.auc}, review right ${local.reviewAccuracy} ${JSON.stringify(local.reviewRightByKind)}, p50 ${local.msPerActionP50} ms/action`);
      out[file] = { sessions: sessions.length, model: { name: modelName, ...model }, ...(local ? { fallback: local } : {}) };
    }
    if (e) {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${e.process.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
      console.log(`model server RSS ${Math.round(rss)} MB (${e.rssMb} MB when ready)`);
      out.serverRssMb = Math.round(rss);
      out.rssAtReadyMb = e.rssMb;
    }
    console.log(JSON.stringify(out));
  } finally {
    await e?.stop();
  }
}

void main();
