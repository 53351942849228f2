/**
 * Renders finished spans as an indented tree (name, duration, chosen attributes): what the README's
 * sample span tree is copied from, and what a failing telemetry test prints to show what it saw.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

const SHOWN = /^(gatehouse\.|http\.)/;

export function spanTree(spans: readonly ReadableSpan[], root: ReadableSpan): string {
  const lines: string[] = [];
  const visit = (span: ReadableSpan, depth: number) => {
    const ms = span.duration[0] * 1000 + span.duration[1] / 1e6;
    const attrs = Object.entries(span.attributes)
      .filter(([k]) => SHOWN.test(k) && k !== 'gatehouse.session_id' && k !== 'gatehouse.policy_hash')
      .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`);
    lines.push(`${'  '.repeat(depth)}${span.name}  ${ms.toFixed(1)} ms${attrs.length ? `  ${attrs.join(' ')}` : ''}`);
    const children = spans
      .filter((x) => x.parentSpanId === span.spanContext().spanId)
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    for (const c of children) visit(c, depth + 1);
  };
  visit(root, 0);
  return lines.join('\n');
}
