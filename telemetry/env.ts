/**
 * Telemetry from the environment: on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (and
 * `OTEL_SDK_DISABLED` is not `true`), exported over OTLP/HTTP; off otherwise, with nothing
 * loaded. `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `_METRICS_ENDPOINT` override the per-signal
 * URLs; the exporters read the other standard variables themselves (`OTEL_EXPORTER_OTLP_HEADERS`,
 * timeouts…). Temporal's core runtime (the SDK's worker metrics) gets its own OTLP exporter from
 * `runtimeTelemetryOptions`, sent where the JS metric exporter sends (the metrics URL) with the same
 * headers (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_METRICS_HEADERS` over it).
 */
import type { TelemetryOptions } from '@temporalio/worker';
import { activeTelemetry, type Telemetry } from './active';

/** How often metrics are exported. @default 10 s (`OTEL_METRIC_EXPORT_INTERVAL`, ms) */
const DEFAULT_METRIC_INTERVAL_MS = 10_000;

/** The OTLP endpoint when telemetry is on, else `undefined`. */
export function otlpEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return endpoint ? endpoint.replace(/\/+$/, '') : undefined;
}

function metricIntervalMs(env: NodeJS.ProcessEnv): number {
  const n = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_METRIC_INTERVAL_MS;
}

/**
 * Installs OTLP tracing and metrics for a process playing `role` (`gatehouse-<role>` unless
 * `OTEL_SERVICE_NAME` says otherwise) when the endpoint is set; `undefined` (and nothing loaded) when not.
 * Idempotent: a second call returns what the first installed.
 */
export async function startTelemetryFromEnv(role: string, env: NodeJS.ProcessEnv = process.env): Promise<Telemetry | undefined> {
  const endpoint = otlpEndpoint(env);
  if (!endpoint) return undefined;
  const already = activeTelemetry();
  if (already) return already;
  const [{ installTelemetry }, { OTLPTraceExporter }, { OTLPMetricExporter }, { PeriodicExportingMetricReader }] = await Promise.all([
    import('./install'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/sdk-metrics'),
  ]);
  return installTelemetry({
    serviceName: env.OTEL_SERVICE_NAME?.trim() || `gatehouse-${role}`,
    // The signal-specific variables win, as the OpenTelemetry spec has it.
    spanExporter: new OTLPTraceExporter({ url: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || `${endpoint}/v1/traces` }),
    batch: true,
    metricReader: new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: metricsUrl(endpoint, env) }),
      exportIntervalMillis: metricIntervalMs(env),
    }),
  });
}

/**
 * Where metrics go: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` as written when set (the spec's
 * signal-specific URL), else `/v1/metrics` of the endpoint. Both the JS exporter and core's use it.
 */
export function metricsUrl(endpoint: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim() || `${endpoint}/v1/metrics`;
}

/**
 * The headers of `OTEL_EXPORTER_OTLP_HEADERS` with those of `OTEL_EXPORTER_OTLP_<signal>_HEADERS`
 * over them, as the JS exporters read them: `key=value` pairs joined by `,`, each side trimmed and
 * percent-decoded (a pair that does not decode is kept as written), `;` properties and pairs
 * without a key or a value dropped. `undefined` when there are none.
 */
export function otlpHeaders(signal: 'TRACES' | 'METRICS', env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
  const headers = { ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS), ...parseHeaders(env[`OTEL_EXPORTER_OTLP_${signal}_HEADERS`]) };
  return Object.keys(headers).length > 0 ? headers : undefined;
}

function parseHeaders(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of (raw ?? '').split(',')) {
    const pair = entry.split(';')[0] ?? '';
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = decoded(pair.slice(0, at).trim());
    const value = decoded(pair.slice(at + 1).trim());
    if (key !== '' && value !== '') out[key] = value;
  }
  return out;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * `Runtime.install({ telemetryOptions })` for Temporal's core: the SDK's worker metrics (task
 * latencies, slots, polls, activity and workflow counts) over OTLP/HTTP to the metrics URL the JS
 * exporter uses (`metricsUrl`), with the same headers (`otlpHeaders`); `undefined` when telemetry is off.
 */
export function runtimeTelemetryOptions(env: NodeJS.ProcessEnv = process.env): TelemetryOptions | undefined {
  const endpoint = otlpEndpoint(env);
  if (!endpoint) return undefined;
  const headers = otlpHeaders('METRICS', env);
  return { metrics: { otel: { url: metricsUrl(endpoint, env), http: true, ...(headers ? { headers } : {}), metricsExportInterval: metricIntervalMs(env) } } };
}
