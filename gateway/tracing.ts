/**
 * Request spans for the gateway, when telemetry is on: one SERVER span per request the gateway
 * serves, named by method and route template (`POST /v1/sessions/:sessionId/proposals`). The handler
 * runs inside it, so the Temporal client's interceptors carry it to the workflow. Attributes are the
 * method, route and status code: never the URL's query, headers or body.
 *
 * Only an agent's requests are traced: `traceRequests` is installed after the origin check,
 * authentication and the rate limit (`server.ts`), and a request no agent credential authenticated
 * (refused, over the rate, or on a public route: `/healthz`, the OAuth endpoints) starts no span, so
 * a caller can add to the span queue only as fast as its agent's rate lets it. The workflow spans have
 * a queue of their own (`telemetry/install.ts`), which no request fills.
 *
 * The caller is an agent, so its W3C `traceparent` is not trusted: every request starts a trace of
 * Gatehouse's own (an agent cannot put Gatehouse's spans into a trace it chose, such as another
 * session's, nor switch their sampling), and the caller's span is kept as a link, which tracing
 * backends show next to the request. Its baggage is not read.
 */
import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export function traceRequests(app: FastifyInstance, tracer: Tracer): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.agent) return done();
    const route = request.routeOptions.url ?? 'unmatched';
    const caller = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, request.headers));
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        root: true,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_HTTP_ROUTE]: route },
        ...(caller && isSpanContextValid(caller) ? { links: [{ context: caller }] } : {}),
      },
      ROOT_CONTEXT,
    );
    spans.set(request, span);
    context.with(trace.setSpan(ROOT_CONTEXT, span), done);
  });
  // The body is parsed outside the request's async context: enter the span again for the handler.
  app.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    if (span) context.with(trace.setSpan(context.active(), span), done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
