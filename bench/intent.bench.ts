/**
 * Intent scoring on the repository's evaluation set (test/fixtures/intent/sessions.jsonl): ROC AUC
 * and the default policy's review accuracy per deviation kind, for the local embedding model and
 * the synonym fallback; the scoring cost per action (p50, one action scored as the worker does
 * after each call, embeddings cache cold for the action) and the model server's memory.
 * Usage: `npm run bench:intent`; the last line is one JSON object.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createIntentScorer, MINILM_CALIBRATION, type IntentScorer } from '../activities/intent';
import { calibrate, scoreSession } from '../activities/intent/evaluate';
import { readSessions } from '../cli/commands/intent';
import { startEmbeddings } from '../worker/devstack/embeddings';

const FILE = 'test/fixtures/intent/sessions.jsonl';

async function evaluate(scorer: IntentScorer) {
  const sessions = readSessions(FILE);
  const results = [];
  const costs: number[] = [];
  for (const s of sessions) {
    const r = await scoreSession(scorer, s);
    results.push({ ...r, label: s.label!, kind: s.kind ?? s.label! });
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
  const e = await startEmbeddings({ timeoutMs: 120_000 });
  try {
    const model = await evaluate(createIntentScorer({ kind: 'openai', baseUrl: e.url, model: e.model, calibration: MINILM_CALIBRATION }));
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${e.process.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const local = await evaluate(createIntentScorer({ kind: 'local' }));
    console.log(`model ${e.model}: AUC ${model.auc}, review right ${model.reviewAccuracy}, p50 ${model.msPerActionP50} ms/action, server RSS ${Math.round(rss)} MB`);
    console.log(`synonym fallback: AUC ${local.auc}, review right ${local.reviewAccuracy}, p50 ${local.msPerActionP50} ms/action`);
    console.log(JSON.stringify({ sessions: readSessions(FILE).length, model: { name: e.model, ...model, serverRssMb: Math.round(rss), rssAtReadyMb: e.rssMb }, fallback: local }));
  } finally {
    await e.stop();
  }
}

void main();
