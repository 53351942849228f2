/**
 * Temporal's logger for Gatehouse's processes (`gatehouse start`, `worker/main.ts`, `gatehouse
 * replay`): the SDK's `DefaultLogger` line, written with its control characters escaped. The SDK
 * logs every failed activity and workflow with its error's stack, and those errors carry text an
 * agent chose (an agent id, a workflow id): written raw, it would drive the operator's terminal
 * (OSC 52 sets the clipboard; a carriage return and `ESC[2K` rewrite the line). Core's own lines
 * are forwarded through it as well, rather than written to stderr beside it. Node-only.
 */
import { formatWithOptions } from 'node:util';
import { DefaultLogger, type LogEntry, type LogLevel, type RuntimeOptions, type TelemetryOptions } from '@temporalio/worker';
import { shownText } from '../approvals/shown-text';

/** Without colours: their escape sequences would be shown escaped. */
const format = formatWithOptions.bind(undefined, { colors: false });

/**
 * One entry as the SDK's default logger writes it (time, level, message, metadata), with hidden
 * characters escaped and every line after the first indented: only an entry's own first line
 * starts at the margin, so a line break inside an error's message cannot pass for another entry.
 */
export function escapedLogText(entry: LogEntry): string {
  const date = new Date(Number(entry.timestampNanos / 1_000_000n));
  const meta = entry.meta === undefined ? '' : ` ${format(entry.meta)}`;
  return shownText(`${format(date)} [${entry.level}] ${entry.message}${meta}`).replaceAll('\n', '\n  ');
}

function writeEscaped(entry: LogEntry): void {
  process.stderr.write(`${escapedLogText(entry)}\n`);
}

/**
 * `Runtime.install` options: the escaping logger at `level`, core's lines forwarded to it (at
 * core's default filter), and `telemetry` (core's metrics) when given.
 */
export function escapedRuntimeLogging(level: LogLevel, telemetry?: TelemetryOptions): Pick<RuntimeOptions, 'logger' | 'telemetryOptions'> {
  return { logger: new DefaultLogger(level, writeEscaped), telemetryOptions: { ...telemetry, logging: { forward: {} } } };
}
