/**
 * The activity span (`RunActivity:<type>`) of `@temporalio/interceptors-opentelemetry`, with a
 * failure named, not quoted: the package sets the error's message as the span's status and records
 * it as an exception event, and a tool's failure message can echo what an agent sent (`customer
 * \`…\` not found`). No span carries an argument value (docs/reference/telemetry.md).
 */
import * as otel from '@opentelemetry/api';
import { CompleteAsyncError } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { OpenTelemetryActivityInboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import { ACTIVITY_ID_ATTR_KEY, extractContextFromHeaders, RUN_ID_ATTR_KEY, WORKFLOW_ID_ATTR_KEY } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { SPAN_DELIMITER, SpanName } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';

export class ActivityInboundInterceptor extends OpenTelemetryActivityInboundInterceptor {
  override execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = this.ctx.info;
    const run = () =>
      this.tracer.startActiveSpan(`${SpanName.ACTIVITY_EXECUTE}${SPAN_DELIMITER}${info.activityType}`, async (span) => {
        span.setAttribute(ACTIVITY_ID_ATTR_KEY, info.activityId);
        if (info.inWorkflow && info.workflowExecution) {
          span.setAttribute(WORKFLOW_ID_ATTR_KEY, info.workflowExecution.workflowId);
          span.setAttribute(RUN_ID_ATTR_KEY, info.workflowExecution.runId);
        }
        try {
          const result = await next(input);
          span.setStatus({ code: otel.SpanStatusCode.OK });
          return result;
        } catch (err) {
          // Completed later by someone else: not a failure of this attempt.
          if (err instanceof CompleteAsyncError) span.setStatus({ code: otel.SpanStatusCode.OK });
          else span.setStatus({ code: otel.SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
          throw err;
        } finally {
          span.end();
        }
      });
    const parent = extractContextFromHeaders(input.headers);
    return parent ? otel.context.with(parent, run) : run();
  }
}
