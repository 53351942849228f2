/**
 * What the telemetry tests share: OpenTelemetry installed with an in-memory span exporter and an
 * in-memory metric reader, a workflow bundle built with the tracing interceptor module, a real
 * worker and the real gateway on 127.0.0.1, and helpers to walk the finished spans.
 */
import { type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { AggregationTemporality, MetricReader, type DataPoint, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { RevocationCache } from '../../audit/revocation-cache';
import { startGateway, type RunningGateway } from '../../gateway/start';
import type { Telemetry } from '../../telemetry/active';
import { installTelemetry, TRACING_WORKFLOW_MODULES } from '../../telemetry/install';
import { bundleGatehouseWorkflows } from '../../worker/bundle';
import { createHarness, type Harness } from '../workflows/harness';
import { testTrust } from '../support/trust';
import { quietBundleLogger } from '../support/shared-bundle';

/** A metric reader the test collects from on demand (cumulative: each collect sees the totals). */
export class TestMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TracedStack {
  readonly h: Harness;
  readonly gateway: RunningGateway;
  readonly spans: InMemorySpanExporter;
  readonly metrics: TestMetricReader;
  readonly telemetry: Telemetry;
  /** The session workflows bundled with the tracing interceptor module. */
  readonly workflowBundle: WorkflowBundleWithSourceMap;
  call(method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}


export async function startTracedStack(area: string): Promise<TracedStack> {
  const spans = new InMemorySpanExporter();
  const metrics = new TestMetricReader();
  const telemetry = installTelemetry({ serviceName: 'gatehouse-test', spanExporter: spans, metricReader: metrics });
  const workflowBundle = await bundleGatehouseWorkflows({ workflowInterceptorModules: [...TRACING_WORKFLOW_MODULES], logger: quietBundleLogger() });
  const h = await createHarness(area);
  const worker: Worker = await h.worker({ workflowBundle });
  const running = worker.run();
  const cache = await RevocationCache.open(h.audit.pool);
  const gateway = await startGateway({
    temporal: { address: h.address, namespace: h.namespace, taskQueue: h.taskQueue },
    keyset: testTrust().keyset,
    revocations: cache,
    host: '127.0.0.1',
    port: 0,
    env: {},
  });
  return {
    h,
    gateway,
    spans,
    metrics,
    telemetry,
    workflowBundle,
    async call(method, path, token, body, headers = {}) {
      const res = await fetch(`${gateway.url}${path}`, {
        method,
        headers: { ...headers, authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await gateway.close();
      await cache.close();
      worker.shutdown();
      await running;
      await h.close();
      await telemetry.shutdown();
    },
  };
}

/** The span's parent span id (SDK 1.x field). */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanId;
}

/** The one span matching `where`; fails with the names seen when there is not exactly one. */
export function only(spans: readonly ReadableSpan[], what: string, where: (s: ReadableSpan) => boolean): ReadableSpan {
  const found = spans.filter(where);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length} among ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

/** Sum of a counter's points matching `attrs` (0 when none). */
export function counterValue(rm: ResourceMetrics, name: string, attrs: Record<string, string>): number {
  let total = 0;
  for (const scope of rm.scopeMetrics) {
    for (const m of scope.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const p of m.dataPoints as DataPoint<number>[]) {
        if (Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)) total += p.value;
      }
    }
  }
  return total;
}

/** Count of a histogram's recordings matching `attrs` (0 when none). */
export function histogramCount(rm: ResourceMetrics, name: string, attrs: Record<string, string>): { count: number; min: number } {
  let count = 0;
  let min = Infinity;
  for (const scope of rm.scopeMetrics) {
    for (const m of scope.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const p of m.dataPoints as DataPoint<Histogram>[]) {
        if (!Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)) continue;
        count += p.value.count;
        min = Math.min(min, p.value.min ?? Infinity);
      }
    }
  }
  return { count, min };
}
