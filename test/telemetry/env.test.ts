/**
 * Telemetry settings from the environment, pure: Temporal's core runtime sends its metrics where
 * the JS metric exporter does (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` over the endpoint's
 * `/v1/metrics`) with the headers the JS exporters read (`OTEL_EXPORTER_OTLP_HEADERS`, the
 * signal's own over them). It always used `<endpoint>/v1/metrics` and no headers: a collector
 * behind authentication, or at another path, never got the worker's metrics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricsUrl, otlpHeaders, runtimeTelemetryOptions } from '../../telemetry/env';

const ENDPOINT = 'http://collector.internal:4318';

function otel(env: NodeJS.ProcessEnv) {
  const options = runtimeTelemetryOptions(env);
  const metrics = options?.metrics as { otel?: { url: string; http?: boolean; headers?: Record<string, string>; metricsExportInterval?: unknown } } | undefined;
  return metrics?.otel;
}

describe('runtimeTelemetryOptions', () => {
  it('is off without an endpoint, or with the SDK disabled', () => {
    assert.equal(runtimeTelemetryOptions({}), undefined);
    assert.equal(runtimeTelemetryOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(runtimeTelemetryOptions({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${ENDPOINT}/v1/metrics` }), undefined, 'the endpoint turns telemetry on');
  });

  it('sends to the endpoint’s /v1/metrics, over HTTP, with no headers when none are set', () => {
    assert.deepEqual(otel({ OTEL_EXPORTER_OTLP_ENDPOINT: `${ENDPOINT}/` }), { url: `${ENDPOINT}/v1/metrics`, http: true, metricsExportInterval: 10_000 });
    assert.equal(otel({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_METRIC_EXPORT_INTERVAL: '250' })?.metricsExportInterval, 250);
  });

  it('sends to OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as written, as the JS exporter does', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: ' https://metrics.example/otlp/metrics ' };
    assert.equal(otel(env)?.url, 'https://metrics.example/otlp/metrics');
    assert.equal(metricsUrl(ENDPOINT, env), 'https://metrics.example/otlp/metrics', 'one rule for both exporters');
    assert.equal(otel({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '  ' })?.url, `${ENDPOINT}/v1/metrics`, 'blank is unset');
  });

  it('sends OTEL_EXPORTER_OTLP_HEADERS, with OTEL_EXPORTER_OTLP_METRICS_HEADERS over them', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT,
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20Z2F0ZTpob3VzZQ%3D%3D , x-tenant = acme,x-scope=all',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-tenant=acme-metrics;ignored=property',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-scope=traces-only',
    };
    assert.deepEqual(otel(env)?.headers, { authorization: 'Basic Z2F0ZTpob3VzZQ==', 'x-tenant': 'acme-metrics', 'x-scope': 'all' });
    assert.deepEqual(otlpHeaders('TRACES', env), { authorization: 'Basic Z2F0ZTpob3VzZQ==', 'x-tenant': 'acme', 'x-scope': 'traces-only' });
  });

  it('reads headers as the JS exporters do (pairs without a key or a value dropped); what does not decode is kept as written', () => {
    assert.deepEqual(otlpHeaders('METRICS', { OTEL_EXPORTER_OTLP_HEADERS: '=v,novalue=,noequals,k=v=w,pct=%E0%A4%A,,' }), { k: 'v=w', pct: '%E0%A4%A' });
    assert.equal(otlpHeaders('METRICS', { OTEL_EXPORTER_OTLP_HEADERS: ' , ' }), undefined);
  });
});
