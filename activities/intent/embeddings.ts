/**
 * A client of an OpenAI-compatible embeddings endpoint: `POST {baseUrl}/embeddings` with
 * `{ model, input: string[] }`, answered by `{ data: [{ index, embedding }] }`. Uses Node's fetch;
 * no SDK. Remembers recent embeddings so a session's intent is embedded once, not per score.
 */
import type { OpenAIScorerConfig } from './config';
import { DEFAULT_EMBEDDINGS_MODEL } from './config';
import { IntentScorerError } from './errors';

const CACHE_MAX = 512;

export function createEmbeddingsClient(config: OpenAIScorerConfig): (texts: readonly string[]) => Promise<number[][]> {
  const url = `${config.baseUrl.replace(/\/+$/, '')}/embeddings`;
  const model = config.model ?? DEFAULT_EMBEDDINGS_MODEL;
  const cache = new Map<string, number[]>();

  return async function embed(texts) {
    // Read what is cached before storing the new vectors: storing may evict a text this call needs.
    const found = new Map<string, number[]>();
    for (const t of texts) {
      const v = cache.get(t);
      if (v !== undefined) found.set(t, v);
    }
    const missing = [...new Set(texts.filter((t) => !found.has(t)))];
    if (missing.length > 0) {
      const vectors = await request(missing);
      missing.forEach((t, i) => {
        found.set(t, vectors[i]!);
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
        cache.set(t, vectors[i]!);
      });
    }
    return texts.map((t) => found.get(t)!);
  };

  async function request(input: string[]): Promise<number[][]> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}) },
        body: JSON.stringify({ model, input }),
        signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new IntentScorerError('EmbeddingsUnavailable', `embeddings endpoint \`${url}\` unreachable: ${(err as Error).message}`, { retryable: true, cause: err });
    }
    if (!res.ok) {
      const body = (await res.text().catch(() => '')).slice(0, 200);
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new IntentScorerError(retryable ? 'EmbeddingsUnavailable' : 'EmbeddingsRejected', `embeddings endpoint \`${url}\` answered ${res.status}: ${body}`, {
        retryable,
        status: res.status,
      });
    }
    const json = (await res.json().catch(() => undefined)) as { data?: { index?: number; embedding?: unknown }[] } | undefined;
    const data = json?.data;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw new IntentScorerError('EmbeddingsMalformed', `embeddings endpoint \`${url}\` returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${input.length} inputs`, {
        retryable: false,
      });
    }
    const out: number[][] = new Array(input.length);
    data.forEach((d, i) => {
      const idx = typeof d.index === 'number' ? d.index : i;
      if (!Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === 'number') || idx < 0 || idx >= input.length) {
        throw new IntentScorerError('EmbeddingsMalformed', `embeddings endpoint \`${url}\` returned a malformed embedding at index ${i}`, { retryable: false });
      }
      out[idx] = d.embedding as number[];
    });
    return out;
  }
}
