/**
 * Red team: any caller makes Gatehouse drop its decision spans. The gateway started a span for
 * every request, before the origin check, authentication and the rate limit (a 401, a 429, a 404,
 * `/healthz`), and the workflow's spans went through the same batch span processor, whose queue
 * (2,048 spans) drops what ends while it is full. With the collector slow for a moment, 5,000
 * requests nobody has to sign, then one decision: the decision span was dropped, and the
 * `gatehouse.proposals` counter still counted it, so traces and metrics disagreed.
 *
 * Now only a request an agent's credential authenticated, within the agent's rate, starts a span
 * (not one refused, nor one on a public route), and the workflow spans have a queue of their own. Telemetry is installed as in production (batch
 * processors) over an exporter that holds its exports until released: a collector that is slow.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OpenTelemetryWorkflowExporter, SerializableSpan } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSink } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { FastifyInstance } from 'fastify';
import type { Gatehouse } from '../../client';
import { createGateway } from '../../gateway/server';
import type { Telemetry } from '../../telemetry/active';
import { installTelemetry } from '../../telemetry/install';
import { ATTR, SPAN } from '../../telemetry/names';
import { testTrust } from '../support/trust';
import { TestMetricReader } from '../telemetry/fixture';

type Done = Parameters<SpanExporter['export']>[1];
/** `ExportResultCode.SUCCESS` of `@opentelemetry/core`. */
const SUCCESS = { code: 0 } as Parameters<Done>[0];

/** A collector that takes every span it is sent, and answers only once released (while `held`). */
class SlowCollector implements SpanExporter {
  readonly received: ReadableSpan[] = [];
  held = false;
  #waiting: Done[] = [];

  export(spans: ReadableSpan[], done: Done): void {
    this.received.push(...spans);
    if (this.held) this.#waiting.push(done);
    else done(SUCCESS);
  }
  release(): void {
    this.held = false;
    for (const done of this.#waiting.splice(0)) done(SUCCESS);
  }
  shutdown(): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

const INFO = { namespace: 'default', taskQueue: 'gatehouse', workflowId: 'session-flooded', runId: 'run-1', workflowType: 'agentSession', attempt: 1 } as WorkflowInfo;

/** A `gatehouse.decision` span as the workflow sandbox hands it to the worker's `exporter` sink. */
function decisionSpan(spanId: string): SerializableSpan {
  return {
    name: SPAN.decision,
    kind: SpanKind.INTERNAL,
    spanContext: { traceId: 'ab'.repeat(16), spanId, traceFlags: 1 },
    startTime: [1_800_000_000, 0],
    endTime: [1_800_000_000, 0],
    status: { code: SpanStatusCode.UNSET },
    attributes: { [ATTR.verdict]: 'allow', [ATTR.tier]: 'auto', [ATTR.ruleIds]: ['tier.read'], [ATTR.policyHash]: '0'.repeat(64) },
    links: [],
    events: [],
    duration: [0, 0],
    ended: true,
    droppedAttributesCount: 0,
    droppedLinksCount: 0,
    droppedEventsCount: 0,
    instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
  };
}

describe('a flood of requests and the decision spans', () => {
  const collector = new SlowCollector();
  let telemetry: Telemetry;
  let app: FastifyInstance;
  let token: string;

  before(async () => {
    telemetry = installTelemetry({ serviceName: 'gatehouse-flood', spanExporter: collector, batch: true, metricReader: new TestMetricReader() });
    // Nothing here reaches Temporal: the client is never called.
    const client = { client: {}, taskQueue: 'gatehouse' } as unknown as Gatehouse;
    app = createGateway({ client, keyset: testTrust().keyset, revocations: { isRevoked: async () => false }, limits: { requestsPerSecond: 0.001, burst: 2 } });
    await app.ready();
    token = await testTrust().credential('flooding-bot', 'eng-007');
  });
  after(async () => {
    await app?.close();
    await telemetry?.shutdown();
  });

  /** The request spans the gateway exported, by name. */
  function requestSpans(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of collector.received) if (s.kind === SpanKind.SERVER) out.set(s.name, (out.get(s.name) ?? 0) + 1);
    return out;
  }

  it('requests refused before authentication succeeds, or over the rate, start no span', async () => {
    const statuses = new Map<number, number>();
    const send = async (url: string, headers: Record<string, string> = {}) => {
      const r = await app.inject({ method: 'GET', url, headers });
      statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
    };
    for (let i = 0; i < 300; i++) {
      await send('/v1/sessions'); // no credential
      await send('/v1/sessions/s-1', { authorization: 'Bearer not-a-credential' }); // a bad one
      await send('/no/such/route'); // unmatched paths need a credential too
      await send('/v1/sessions', { host: 'rebound.example' }); // refused by the origin check
    }
    // An agent over its rate: two in the burst (an authenticated 404 each), then 429s.
    for (let i = 0; i < 300; i++) await send('/v1/no-such-thing', { authorization: `Bearer ${token}` });
    await telemetry.flush();

    assert.equal(statuses.get(401), 900, JSON.stringify([...statuses]));
    assert.equal(statuses.get(429), 298, JSON.stringify([...statuses]));
    assert.deepEqual([...requestSpans()], [['GET unmatched', 2]], 'only the two requests the gateway served are traced');
  });

  it('a public route is not traced; 5,000 other spans, then one decision, while the collector is slow: the decision span is exported', async () => {
    collector.held = true;
    for (let i = 0; i < 100; i++) {
      const r = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(r.statusCode, 200);
    }
    // What fills the shared queue in production: the agents' request spans, the client's and the activities'.
    const flood = telemetry.tracer('gatehouse/flood');
    for (let i = 0; i < 5_000; i++) flood.startSpan('RunActivity:runTool').end();
    // The worker's `exporter` sink, called with what the workflow sandbox produced.
    const sink = telemetry.workerOptions().sinks.exporter as InjectedSink<OpenTelemetryWorkflowExporter>;
    sink.export.fn(INFO, [decisionSpan('cd'.repeat(8))]);
    collector.release();
    await telemetry.flush();

    assert.equal(requestSpans().get('GET /healthz'), undefined, 'a public route is not traced');
    const flooded = collector.received.filter((s) => s.name === 'RunActivity:runTool').length;
    assert.ok(flooded < 5_000, `the flood overflowed the shared queue (${flooded} of 5000 exported)`);
    const decisions = collector.received.filter((s) => s.name === SPAN.decision);
    assert.deepEqual(decisions.map((s) => [s.spanContext().spanId, s.attributes.workflowId, s.attributes[ATTR.verdict]]), [['cd'.repeat(8), 'session-flooded', 'allow']]);
  });
});
