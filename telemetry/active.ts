/**
 * The process's telemetry, when it is on. `startTelemetryFromEnv` (or a test's `installTelemetry`)
 * sets it; the gateway, the client and the worker ask `activeTelemetry()` whether to add their
 * request hooks, interceptors and sinks. When it is `undefined` nothing of OpenTelemetry is loaded
 * or installed: no SDK, no interceptors, no exporters, no timers.
 *
 * Types only from the SDK here, so importing this module costs nothing when tracing is off.
 */
import type { Tracer } from '@opentelemetry/api';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';

export interface Telemetry {
  /** `service.name` on every span and metric. */
  readonly serviceName: string;
  /** A tracer of the process's provider (the gateway's request spans). */
  tracer(name: string): Tracer;
  /** Interceptors that put the caller's trace context on workflow starts, updates, signals and queries. */
  workflowClientInterceptors(): WorkflowClientInterceptor[];
  /**
   * What a worker adds: the workflow interceptor module (bundled with the workflows), activity
   * interceptors, and the `exporter` sink through which workflow spans leave the sandbox.
   */
  workerOptions(): Required<Pick<WorkerOptions, 'interceptors' | 'sinks'>>;
  /** Exports what is buffered (spans and metrics). */
  flush(): Promise<void>;
  /** Flushes, stops the exporters and uninstalls the global providers. */
  shutdown(): Promise<void>;
}

let active: Telemetry | undefined;

/** The installed telemetry, or `undefined` when tracing and metrics are off (the default). */
export function activeTelemetry(): Telemetry | undefined {
  return active;
}

/** Thrown when telemetry is installed twice in one process. */
export class TelemetryError extends Error {
  readonly type = 'TelemetryError';
  constructor(message: string) {
    super(message);
    this.name = 'TelemetryError';
  }
}

/** Used by `install.ts` only. */
export function setActiveTelemetry(t: Telemetry | undefined): void {
  if (t && active) throw new TelemetryError('telemetry is already installed in this process');
  active = t;
}
