/**
 * The workflow interceptor module a traced bundle is built with (`TRACING_WORKFLOW_MODULES`): the
 * spans of `@temporalio/interceptors-opentelemetry`, with the same names, parents and headers, but
 * no microtask turn added to anything the workflow awaits.
 *
 * Why: the package wraps each update handler, activity and child start in `await`s, so with tracing
 * on an update's answer reaches the SDK a few turns later. When an update handler and the main flow
 * both resume in one workflow task, that changes which command comes first (an update completed, or
 * the next activity scheduled), and a history recorded with tracing on failed to replay with it off
 * (TMPRL1100, "Update machine does not handle this event"): an operator turning tracing on or off
 * would have stalled every session that was in such a race. Here each traced call hands back the
 * intercepted call's own promise, and the span ends in a reaction of its own that issues no command.
 *
 * Queries and log attributes issue no command: the package's own are kept. A failed call's span
 * says only its error's name (`endFailed`).
 */
import * as otel from '@opentelemetry/api';
import { extractContextFromHeaders, headersWithContext, UPDATE_ID_ATTR_KEY } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
  SPAN_DELIMITER,
  SpanName,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  ContinueAsNew,
  workflowInfo,
  type ActivityInput,
  type ContinueAsNewInput,
  type LocalActivityInput,
  type Next,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

const isContinueAsNew = (err: unknown) => err instanceof ContinueAsNew;

/**
 * Runs `call` in an active span named `name` (a child of `parent` when the caller's headers carry
 * one) and returns `call`'s own promise: the span's end is a separate reaction, added before the
 * caller's, so every other reaction runs in the turn it would have run in without tracing.
 */
function inActiveSpan<T>(tracer: otel.Tracer, name: string, parent: otel.Context | undefined, call: (span: otel.Span) => Promise<T>, benign?: (err: unknown) => boolean): Promise<T> {
  const traced = () =>
    tracer.startActiveSpan(name, (span) => {
      let running: Promise<T>;
      try {
        running = call(span);
      } catch (err) {
        endFailed(span, err, benign);
        throw err;
      }
      running.then(
        () => {
          span.setStatus({ code: otel.SpanStatusCode.OK });
          span.end();
        },
        (err: unknown) => endFailed(span, err, benign),
      );
      return running;
    });
  return parent ? otel.context.with(parent, traced) : traced();
}

/**
 * A failed call's span: its error's name only. The package also puts the message and an exception
 * event on it, and a message may quote what an agent sent (a rejected update's, a tool's failure):
 * no span carries an argument value.
 */
function endFailed(span: otel.Span, err: unknown, benign?: (err: unknown) => boolean): void {
  if (benign?.(err)) span.setStatus({ code: otel.SpanStatusCode.OK });
  else span.setStatus({ code: otel.SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
  span.end();
}

const spanName = (kind: SpanName, what: string) => `${kind}${SPAN_DELIMITER}${what}`;

class InboundInterceptor extends OpenTelemetryInboundInterceptor {
  override execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    return inActiveSpan(this.tracer, spanName(SpanName.WORKFLOW_EXECUTE, workflowInfo().workflowType), extractContextFromHeaders(input.headers), () => next(input), isContinueAsNew);
  }

  override handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    return inActiveSpan(this.tracer, spanName(SpanName.WORKFLOW_HANDLE_SIGNAL, input.signalName), extractContextFromHeaders(input.headers), () => next(input));
  }

  override validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>): void {
    const validate = () =>
      this.tracer.startActiveSpan(spanName(SpanName.WORKFLOW_VALIDATE_UPDATE, input.name), (span) => {
        span.setAttribute(UPDATE_ID_ATTR_KEY, input.updateId);
        try {
          next(input);
        } catch (err) {
          endFailed(span, err);
          throw err;
        }
        span.setStatus({ code: otel.SpanStatusCode.OK });
        span.end();
      });
    const parent = extractContextFromHeaders(input.headers);
    if (parent) otel.context.with(parent, validate);
    else validate();
  }

  override handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    return inActiveSpan(this.tracer, spanName(SpanName.WORKFLOW_HANDLE_UPDATE, input.name), extractContextFromHeaders(input.headers), (span) => {
      span.setAttribute(UPDATE_ID_ATTR_KEY, input.updateId);
      return next(input);
    });
  }
}

class OutboundInterceptor extends OpenTelemetryOutboundInterceptor {
  override scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    return inActiveSpan(this.tracer, spanName(SpanName.ACTIVITY_START, input.activityType), undefined, () => next({ ...input, headers: headersWithContext(input.headers) }));
  }

  override scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>): Promise<unknown> {
    return inActiveSpan(this.tracer, spanName(SpanName.ACTIVITY_START, input.activityType), undefined, () => next({ ...input, headers: headersWithContext(input.headers) }));
  }

  override startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ): Promise<[Promise<string>, Promise<unknown>]> {
    return inActiveSpan(this.tracer, spanName(SpanName.CHILD_WORKFLOW_START, input.workflowType), undefined, () => next({ ...input, headers: headersWithContext(input.headers) }));
  }

  override continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>): Promise<never> {
    const workflowType = input.options.workflowType ?? workflowInfo().workflowType;
    return inActiveSpan(this.tracer, spanName(SpanName.CONTINUE_AS_NEW, workflowType), undefined, () => next({ ...input, headers: headersWithContext(input.headers) }), isContinueAsNew);
  }

  override signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>): Promise<void> {
    return inActiveSpan(this.tracer, spanName(SpanName.WORKFLOW_SIGNAL, input.signalName), undefined, () => next({ ...input, headers: headersWithContext(input.headers) }));
  }
}

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new InboundInterceptor()],
  outbound: [new OutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
