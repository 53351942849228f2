/**
 * With no `OTEL_EXPORTER_OTLP_ENDPOINT` (or with `OTEL_SDK_DISABLED=true`) telemetry is off:
 * nothing is installed and nothing of the OpenTelemetry SDK, its exporters or Temporal's
 * interceptors is even loaded by the client, the gateway or the worker.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sep } from 'node:path';
import { metrics, trace } from '@opentelemetry/api';
import { Gatehouse } from '../../client';
import { createGateway } from '../../gateway/server';
import { activeTelemetry } from '../../telemetry/active';
import { otlpEndpoint, runtimeTelemetryOptions, startTelemetryFromEnv } from '../../telemetry/env';
import { createGatehouseWorker } from '../../worker/create-worker';

const LOADED_ONLY_WHEN_ON = /[\\/]node_modules[\\/](@opentelemetry[\\/](sdk-|exporter-|resources|otlp-|context-async-hooks|semantic-conventions)|@temporalio[\\/]interceptors-opentelemetry)/;

describe('telemetry off', () => {
  it('installs nothing without an endpoint, or when the SDK is disabled', async () => {
    assert.equal(await startTelemetryFromEnv('worker', {}), undefined);
    assert.equal(await startTelemetryFromEnv('worker', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }), undefined);
    assert.equal(await startTelemetryFromEnv('worker', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(runtimeTelemetryOptions({}), undefined, 'no core metrics exporter');
    assert.equal(activeTelemetry(), undefined);

    // The global API stays the no-op one: spans do not record, meters are the no-op meter.
    const span = trace.getTracer('probe').startSpan('probe');
    assert.equal(span.isRecording(), false);
    span.end();
    assert.equal(metrics.getMeterProvider().constructor.name, 'NoopMeterProvider');

    // The modules that would add hooks, interceptors and sinks are loaded; the SDK is not.
    for (const used of [Gatehouse, createGateway, createGatehouseWorker]) assert.equal(typeof used, 'function');
    const loaded = Object.keys(require.cache);
    assert.ok(loaded.some((p) => p.endsWith(`gateway${sep}server.ts`)), 'the gateway module is in the module cache');
    assert.deepEqual(loaded.filter((p) => LOADED_ONLY_WHEN_ON.test(p)), []);
  });

  it('reads the endpoint and the core metrics URL when set', () => {
    assert.equal(otlpEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), 'http://collector:4318');
    assert.deepEqual(runtimeTelemetryOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_METRIC_EXPORT_INTERVAL: '5000' }), {
      metrics: { otel: { url: 'http://collector:4318/v1/metrics', http: true, metricsExportInterval: 5000 } },
    });
  });
});
