/**
 * The custom metrics, derived from the workflow's spans as they reach the worker: a decision span
 * counts one proposal by its verdict (and, for a denial, one denial per rule id), an approval-wait
 * span records the wait and, when it did not approve, a denial per rule id. Workflow spans reach
 * the worker through the interceptor's sink, which is not called on replay, so a replayed or
 * resumed session never counts twice, and workflow code stays free of metric calls.
 */
import type { Attributes, Context, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR, METRIC, SPAN } from './names';

export class GatehouseMetrics {
  readonly proposals: Counter;
  readonly denials: Counter;
  readonly approvalWait: Histogram;

  constructor(meter: Meter) {
    this.proposals = meter.createCounter(METRIC.proposals, { description: 'proposals by the policy verdict (allow, approve, deny)' });
    this.denials = meter.createCounter(METRIC.denials, { description: 'denied proposals by rule id' });
    this.approvalWait = meter.createHistogram(METRIC.approvalWait, { description: 'time from an approval request to its outcome', unit: 'ms' });
  }
}

function ruleIds(attributes: Attributes): string[] {
  const v = attributes[ATTR.ruleIds];
  return Array.isArray(v) ? v.filter((r): r is string => typeof r === 'string') : [];
}

function durationMs(span: ReadableSpan): number {
  const [s, ns] = span.duration;
  return s * 1000 + ns / 1e6;
}

/** A span processor that turns ended Gatehouse spans into the custom metrics. */
export class DecisionMetricsProcessor implements SpanProcessor {
  constructor(private readonly metrics: GatehouseMetrics) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (span.name === SPAN.decision) {
      const verdict = String(span.attributes[ATTR.verdict]);
      this.metrics.proposals.add(1, { verdict });
      if (verdict === 'deny') for (const rule of ruleIds(span.attributes)) this.metrics.denials.add(1, { rule });
    } else if (span.name === SPAN.approvalWait) {
      const outcome = String(span.attributes[ATTR.approvalOutcome]);
      this.metrics.approvalWait.record(durationMs(span), { outcome });
      if (outcome !== 'approved') for (const rule of ruleIds(span.attributes)) this.metrics.denials.add(1, { rule });
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
