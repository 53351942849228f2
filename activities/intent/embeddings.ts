/**
 * A client of an OpenAI-compatible embeddings endpoint: `POST {baseUrl}/embeddings` with
 * `{ model, input: string[] }`, answered by `{ data: [{ index, embedding }] }`. Uses Node's fetch;
 * no SDK. Remembers recent embeddings so a session's intent is embedded once, not per score.
 */
import type { OpenAIScorerConfig } from './config';
import { DEFAULT_EMBEDDINGS_MODEL } from './config';
import { IntentScorerError } from './errors';

const CACHE_MAX = 512;

/**
 * An endpoint URL fit to print (a start banner, an error, a log): its user name and password, its
 * query string and its fragment — where an API key can ride (`https://key@host/v1`,
 * `…/v1?api-key=…`) — each shown as `***`; scheme, host, port and path as written. A URL that does
 * not parse is shown the same way as far as it can be read.
 */
export function redactedEndpoint(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/^([^/]*\/\/)[^/?#]*@/, '$1***@').replace(/\?.*$/s, '?***').replace(/#.*$/s, '#***');
  }
  const userinfo = u.username !== '' || u.password !== '' ? '***@' : '';
  return `${u.protocol}//${userinfo}${u.host}${u.pathname}${u.search !== '' ? '?***' : ''}${u.hash !== '' ? '#***' : ''}`;
}

/** The parts of `url` that may be credentials (user name, password, query string, fragment; raw and decoded), longest first. */
function endpointSecrets(url: string): string[] {
  let parts: string[];
  try {
    const u = new URL(url);
    parts = [u.username, u.password, u.search.slice(1), u.hash.slice(1)];
  } catch {
    return [];
  }
  const decoded = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  // Shorter parts are not hunted for in text: they would hide ordinary words.
  return [...new Set([...parts, ...decoded])].filter((p) => p.length >= 4).sort((a, b) => b.length - a.length);
}

/** `text` with every lone UTF-16 surrogate replaced by U+FFFD (ES2024's `toWellFormed`, which the ES2022 typings lack). */
export function wellFormed(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed();
}

export function createEmbeddingsClient(config: OpenAIScorerConfig): (texts: readonly string[]) => Promise<number[][]> {
  const url = `${config.baseUrl.replace(/\/+$/, '')}/embeddings`;
  const model = config.model ?? DEFAULT_EMBEDDINGS_MODEL;
  // What failures name: never the credentials a URL may carry.
  const shown = redactedEndpoint(url);
  const secrets = endpointSecrets(config.baseUrl);
  /** Text (an error, a server's answer) with the URL shown redacted and each of its secrets as `***`. */
  const hidden = (text: string) => secrets.reduce((t, secret) => t.split(secret).join('***'), text.split(url).join(shown));
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
        // Lone surrogates (an agent's argument can carry one) made U+FFFD: no endpoint has to parse them.
        body: JSON.stringify({ model, input: input.map(wellFormed) }),
        signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const message = (err as Error).message;
      // Node's fetch quotes the URL as given when it refuses one with credentials: that error is not kept as the cause.
      const cause = hidden(message) === message ? err : undefined;
      throw new IntentScorerError('EmbeddingsUnavailable', `embeddings endpoint \`${shown}\` unreachable: ${hidden(message)}`, { retryable: true, cause });
    }
    if (!res.ok) {
      const body = (await res.text().catch(() => '')).slice(0, 200);
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new IntentScorerError(retryable ? 'EmbeddingsUnavailable' : 'EmbeddingsRejected', `embeddings endpoint \`${shown}\` answered ${res.status}: ${hidden(body)}`, {
        retryable,
        status: res.status,
      });
    }
    const json = (await res.json().catch(() => undefined)) as { data?: { index?: number; embedding?: unknown }[] } | undefined;
    const data = json?.data;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw new IntentScorerError('EmbeddingsMalformed', `embeddings endpoint \`${shown}\` returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${input.length} inputs`, {
        retryable: false,
      });
    }
    const out: number[][] = new Array(input.length);
    data.forEach((d, i) => {
      const idx = typeof d.index === 'number' ? d.index : i;
      if (!Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === 'number') || idx < 0 || idx >= input.length) {
        throw new IntentScorerError('EmbeddingsMalformed', `embeddings endpoint \`${shown}\` returned a malformed embedding at index ${i}`, { retryable: false });
      }
      out[idx] = d.embedding as number[];
    });
    return out;
  }
}
