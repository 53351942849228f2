/**
 * Installs OpenTelemetry in this process: a Node tracer provider (AsyncLocalStorage context, W3C
 * trace-context propagation) and a meter provider, registered globally, plus what the Temporal
 * client and worker need from `@temporalio/interceptors-opentelemetry`. Loaded only when telemetry
 * is on (`env.ts` imports it lazily); tests install it with in-memory exporters.
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { Resource } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetryWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSink } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import { ActivityInboundInterceptor } from './activity-interceptors';
import { setActiveTelemetry, type Telemetry } from './active';
import { DecisionMetricsProcessor, GatehouseMetrics } from './metrics';

/**
 * The tracing workflow interceptor module (`./workflow-interceptors`: the package's spans, adding no
 * microtask turn): a workflow bundle built with it (`bundleWorkflowCode({ workflowInterceptorModules })`)
 * traces; one built without does not, and each replays the other's histories.
 */
export const TRACING_WORKFLOW_MODULES: readonly string[] = [require.resolve('./workflow-interceptors')];

export interface InstallTelemetryOptions {
  /** `service.name` of every span and metric. */
  readonly serviceName: string;
  /** Where finished spans go (OTLP in production, in memory in tests). */
  readonly spanExporter: SpanExporter;
  /** Batch spans before exporting (production); otherwise each span is exported as it ends (tests). @default false */
  readonly batch?: boolean;
  /** Where metrics go (a periodic OTLP reader in production, an in-memory one in tests). */
  readonly metricReader: MetricReader;
}

/**
 * The interceptor package copies the whole workflow info onto every workflow span's attributes
 * (search attributes, memo, history size…): keep what identifies the run. A traced call then
 * exports about a quarter of the bytes (bench:session: 8.7 → 2.4 MB for 320 calls), without the memo.
 */
function identifyingOnly(sink: InjectedSink<OpenTelemetryWorkflowExporter>): InjectedSink<OpenTelemetryWorkflowExporter> {
  return {
    export: {
      ...sink.export,
      fn: (info, spans) => {
        const { namespace, taskQueue, workflowId, runId, workflowType, attempt } = info;
        // Only these reach `Object.assign(span.attributes, info)` in the package's sink.
        sink.export.fn({ namespace, taskQueue, workflowId, runId, workflowType, attempt } as WorkflowInfo, spans);
      },
    },
  };
}

/**
 * The exporter shared by the two span queues, for the workflow spans' queue: its shutdown leaves
 * the exporter to the provider's queue, which shuts it down after its own last export.
 */
function sharedExporter(exporter: SpanExporter): SpanExporter {
  return {
    export: (spans, done) => exporter.export(spans, done),
    shutdown: () => Promise.resolve(),
    ...(exporter.forceFlush ? { forceFlush: () => exporter.forceFlush!() } : {}),
  };
}

/** Ended spans go to each of `processors`, in order. */
function allOf(processors: readonly SpanProcessor[]): SpanProcessor {
  return {
    onStart: (span, parent) => processors.forEach((p) => p.onStart(span, parent)),
    onEnd: (span) => processors.forEach((p) => p.onEnd(span)),
    forceFlush: async () => void (await Promise.all(processors.map((p) => p.forceFlush()))),
    shutdown: async () => void (await Promise.all(processors.map((p) => p.shutdown()))),
  };
}

/**
 * Installs tracing and metrics globally; throws `TelemetryError` when they are already installed.
 *
 * Two span queues: the provider's (the gateway's request spans, the Temporal client's and the
 * activities' spans) and one of the workflow spans alone (proposal, decision, approval wait, and
 * the interceptor's own). A batch queue drops what ends while it is full: with one queue, any
 * caller's requests (`/healthz` needs no credential) could fill it and the decision spans would be
 * dropped; the workflow spans' queue is filled by sessions only.
 */
export function installTelemetry(options: InstallTelemetryOptions): Telemetry {
  const resource = new Resource({ [ATTR_SERVICE_NAME]: options.serviceName });
  const meterProvider = new MeterProvider({ resource, readers: [options.metricReader] });
  const exporting = (exporter: SpanExporter) => (options.batch ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter));
  const decisionMetrics = new DecisionMetricsProcessor(new GatehouseMetrics(meterProvider.getMeter('gatehouse')));
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors: [exporting(options.spanExporter), decisionMetrics] });
  // Workflow spans, rebuilt outside the sandbox: their own export queue, and the metrics.
  const workflowExport = exporting(sharedExporter(options.spanExporter));
  const workflowSpans = identifyingOnly(makeWorkflowExporter(allOf([workflowExport, decisionMetrics]), resource));

  const telemetry: Telemetry = {
    serviceName: options.serviceName,
    tracer: (name) => tracerProvider.getTracer(name),
    workflowClientInterceptors: () => [new OpenTelemetryWorkflowClientInterceptor()],
    workerOptions: () => ({
      interceptors: {
        workflowModules: [...TRACING_WORKFLOW_MODULES],
        activity: [(ctx) => ({ inbound: new ActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      },
      sinks: { exporter: workflowSpans },
    }),
    async flush() {
      await Promise.all([workflowExport.forceFlush(), tracerProvider.forceFlush()]);
      await meterProvider.forceFlush();
    },
    async shutdown() {
      setActiveTelemetry(undefined);
      // The workflow spans' last export first: the provider's shutdown ends the exporter.
      await workflowExport.shutdown();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      metrics.disable();
    },
  };
  setActiveTelemetry(telemetry);
  tracerProvider.register();
  metrics.setGlobalMeterProvider(meterProvider);
  return telemetry;
}
