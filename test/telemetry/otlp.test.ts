/**
 * With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans and metrics leave the process over OTLP/HTTP: a
 * local collector (an HTTP server on 127.0.0.1, started and stopped here) receives both.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import type { Telemetry } from '../../telemetry/active';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { runtimeTelemetryOptions, startTelemetryFromEnv } from '../../telemetry/env';
import { getTestServers } from '../support/servers';
import { eventually } from '../support/eventually';

interface Received {
  readonly path: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

const received: Received[] = [];
let collector: Server;
let endpoint: string;

before(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => collector.close(() => resolve()));
});

describe('telemetry over OTLP', () => {
  let telemetry: Telemetry | undefined;
  after(async () => {
    await telemetry?.shutdown();
  });

  it('exports spans to /v1/traces and metrics to /v1/metrics of the endpoint', async () => {
    telemetry = await startTelemetryFromEnv('probe', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    assert.ok(telemetry, 'telemetry is on');
    assert.equal(telemetry.serviceName, 'gatehouse-probe');
    assert.equal(await startTelemetryFromEnv('probe', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }), telemetry, 'a second start returns the first');
    telemetry.tracer('probe').startSpan('otlp-probe-span').end();
    metrics.getMeter('probe').createCounter('otlp.probe.counter').add(3);
    await telemetry.flush();

    const traces = await eventually(() => received.find((r) => r.path === '/v1/traces'), { what: 'a trace export' });
    assert.match(traces.contentType, /^application\/json/);
    assert.ok(traces.body.includes('otlp-probe-span'));
    assert.ok(traces.body.includes('gatehouse-probe'), 'the service name is on the resource');
    const metricExport = await eventually(() => received.find((r) => r.path === '/v1/metrics' && r.body.includes('otlp.probe.counter')), { what: 'a metric export' });
    assert.ok(metricExport.body.includes('gatehouse-probe'));
  });

  it("exports the SDK's worker metrics from Temporal's core runtime where the metrics variables say, with their headers", async () => {
    // As a deployment sets it: in the process environment, which core reads as well.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
    // These only through `runtimeTelemetryOptions`: what core gets is what it was given.
    const options = runtimeTelemetryOptions({
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${endpoint}/collector/v1/metrics`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-gatehouse-tenant=acme,authorization=Bearer%20generic',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=Bearer%20metrics-token',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
    });
    assert.ok(options);
    Runtime.install({ telemetryOptions: options, logger: new DefaultLogger('WARN') });
    const servers = await getTestServers();
    const connection = await NativeConnection.connect({ address: servers.temporalAddress });
    try {
      await connection.workflowService.getSystemInfo({});
      const core = await eventually(() => received.find((r) => r.body.includes('temporal_')), { what: 'core metrics' });
      assert.equal(core.path, '/collector/v1/metrics');
      assert.equal(core.headers.authorization, 'Bearer metrics-token');
      assert.equal(core.headers['x-gatehouse-tenant'], 'acme');
      assert.ok(core.body.length > 0);
    } finally {
      await connection.close();
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    }
  });
});
