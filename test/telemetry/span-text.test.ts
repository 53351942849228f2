/**
 * The tool name on a proposal span is the agent's own spelling, an unknown tool's too: it is shown
 * as `shownLine` shows it (hidden characters and line breaks escaped) and cut to 200 characters,
 * so an agent cannot put lines, terminal controls or 64 KiB into what a tracing backend stores and
 * shows.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { shownLine } from '../../approvals/shown-text';
import { ATTR, SPAN } from '../../telemetry/names';
import { MAX_TOOL_ATTRIBUTE_CHARS, spanToolName, traceProposalResult } from '../../workflows/telemetry';
import type { ProposeResult } from '../../workflows/contract';

/** One character of each kind `shownLine` escapes, and some it keeps. */
const SAMPLES = [
  'billing.query',
  'fs.read_file-2',
  'a b',
  'line\nbreak\r\n',
  'tab\there',
  '\u0000nul\u001b[31mred\u007f\u0085',
  'bidi\u202eevil\u2066x\u2069',
  'zero\u200bwidth\u200d\ufeff',
  'sep\u2028para\u2029',
  'private\ue000',
  'lone\ud800surrogate\udc00',
  'pair 😀 kept',
  'filler\u3164\u115f variation\ufe0f tag\u{e0041}',
  'spaces\u00a0\u2003\u3000',
  'ünïcödé ✓ 漢字',
];

describe('the tool name on a proposal span', () => {
  it('escapes what shownLine escapes, and nothing else', () => {
    for (const s of SAMPLES) assert.equal(spanToolName(s), shownLine(s), JSON.stringify(s));
  });

  it('is cut to 200 characters, never through a surrogate pair', () => {
    const long = `evil.tool\n${'x'.repeat(64 * 1024)}`;
    const shown = spanToolName(long);
    assert.equal(shown.length, MAX_TOOL_ATTRIBUTE_CHARS);
    assert.ok(shown.startsWith('evil.tool\\u000axxx') && shown.endsWith('x…'), shown);
    const pairAtCut = `${'a'.repeat(MAX_TOOL_ATTRIBUTE_CHARS - 2)}😀😀`;
    const cut = spanToolName(pairAtCut);
    assert.equal(cut, `${'a'.repeat(MAX_TOOL_ATTRIBUTE_CHARS - 2)}…`);
    assert.equal(spanToolName('x'.repeat(MAX_TOOL_ATTRIBUTE_CHARS)), 'x'.repeat(MAX_TOOL_ATTRIBUTE_CHARS), 'up to the bound: whole');
  });

  describe('on the span itself', () => {
    const spans = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    trace.setGlobalTracerProvider(provider);
    after(async () => {
      await provider.shutdown();
      trace.disable();
    });

    it('carries the escaped, bounded name of an unknown tool the agent proposed', async () => {
      const tool = `nope.missing\n2026-11-21T10:00:00Z [INFO] forged\u202e${'y'.repeat(10_000)}`;
      const result = { status: 'denied', sequence: 1, decision: { verdict: 'deny', tier: 'blocked', reasons: [{ rule: 'tool.unknown', message: 'unknown tool' }], policyHash: 'h' } } as unknown as ProposeResult;
      await traceProposalResult('s-1', tool, async () => result);
      const span = spans.getFinishedSpans().find((s) => s.name === SPAN.proposal);
      assert.ok(span, 'a proposal span');
      const attr = String(span.attributes[ATTR.tool]);
      assert.equal(attr.length, MAX_TOOL_ATTRIBUTE_CHARS);
      assert.ok(attr.startsWith('nope.missing\\u000a2026-11-21T10:00:00Z [INFO] forged\\u202eyyy'), attr);
      assert.equal(/[\n\r\u202e]/.test(attr), false);
      assert.equal(span.attributes[ATTR.status], 'denied');
    });
  });
});
