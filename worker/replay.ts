/**
 * Replays recorded session histories against today's workflow code with the SDK's replayer, so a
 * change that would break running sessions (non-determinism) is caught before it ships. Used by
 * `gatehouse replay` and by the replay tests. Node-only.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type ReplayWorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { sessionWorkflowId } from '../workflows/contract';
import { bundleGatehouseWorkflows, WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH } from './bundle';

/** One replay's outcome: clean, a determinism violation, or another failure. */
export type ReplayOutcome =
  | { readonly ok: true; readonly workflowId: string }
  | { readonly ok: false; readonly workflowId: string; readonly kind: 'nondeterminism' | 'error'; readonly message: string };

/**
 * Replays one history (a History or its JSON form) against `workflowsPath` (default: today's
 * workflows), or against a ready `workflowBundle` (many replays, one bundling).
 */
export async function replayHistory(history: unknown, workflowId: string, options: Partial<ReplayWorkerOptions> = {}): Promise<ReplayOutcome> {
  try {
    await Worker.runReplayHistory(replayOptions(options), history, workflowId);
    return { ok: true, workflowId };
  } catch (err) {
    return failed(workflowId, err);
  }
}

/** A history to replay and the workflow id it ran under. */
export interface HistoryToReplay {
  readonly history: unknown;
  readonly workflowId: string;
}

/**
 * Replays many histories, in order, in one replay worker (starting a worker costs about as much as
 * a replay: its workflow thread loads the SDK and the bundle), yielding each outcome as
 * `replayHistory` would. A history the replayer cannot read, or one that cannot be fetched, ends
 * the iteration with its error.
 */
export async function* replayHistories(histories: Iterable<HistoryToReplay> | AsyncIterable<HistoryToReplay>, options: Partial<ReplayWorkerOptions> = {}): AsyncGenerator<ReplayOutcome> {
  const items = (async function* () {
    for await (const { history, workflowId } of histories) yield { history: history as proto.temporal.api.history.v1.IHistory, workflowId };
  })();
  for await (const r of Worker.runReplayHistories(replayOptions(options), items)) {
    yield r.error ? failed(r.workflowId, r.error) : { ok: true, workflowId: r.workflowId };
  }
}

function replayOptions(options: Partial<ReplayWorkerOptions>): ReplayWorkerOptions {
  const code = options.workflowBundle || options.workflowsPath ? {} : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: WORKFLOW_BUNDLER_OPTIONS };
  return { ...code, ...options };
}

function failed(workflowId: string, err: unknown): ReplayOutcome {
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, workflowId, kind: err instanceof DeterminismViolationError ? 'nondeterminism' : 'error', message };
}

/**
 * Parses a JSON history (the format `temporal workflow show --output json` and the Web UI write).
 * Same as the SDK's `historyFromJSON`, but with the protobufjs copy that `@temporalio/proto` was
 * built with: when npm installs two copies, the SDK's own parser fails with "type must be a Type".
 */
export function historyFromJson(json: unknown): proto.temporal.api.history.v1.IHistory {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { events?: unknown }).events)) {
    throw new TypeError('invalid history: expected an object with an array of `events`');
  }
  const protojsonPath = require.resolve('protobufjs/ext/protojson', { paths: [dirname(require.resolve('@temporalio/proto'))] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fromJson } = require(protojsonPath) as { fromJson: (type: unknown, json: unknown, opts: unknown) => unknown };
  const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');
  const loaded = fromJson(historyType, json, { ignoreUnknownFields: true });
  if (loaded === null || loaded === undefined) throw new TypeError('invalid history');
  return loaded as proto.temporal.api.history.v1.IHistory;
}

/**
 * The workflow id a session history ran under. A history file does not carry it, but a session's
 * start input does (`sessionId`), and signed decisions bind it: replaying under another id would
 * refuse every signature the session accepted. Falls back to `fallback` for other histories.
 */
export function sessionWorkflowIdOf(json: unknown, fallback: string): string {
  const events = (json as { events?: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: { data?: string }[] } } }[] })?.events;
  const data = events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  if (typeof data !== 'string') return fallback;
  try {
    const input = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { sessionId?: unknown };
    return typeof input.sessionId === 'string' ? sessionWorkflowId(input.sessionId) : fallback;
  } catch {
    return fallback;
  }
}

/** Replays a history file (JSON: `temporal workflow show --output json`, the Web UI export, or the recording script). */
export async function replayFile(file: string, options: Partial<ReplayWorkerOptions> = {}): Promise<ReplayOutcome> {
  const { history, workflowId } = await readHistoryFile(file);
  return replayHistory(history, workflowId, options);
}

/** A history file's history and the workflow id it ran under (for `replayHistories`). */
export async function readHistoryFile(file: string): Promise<HistoryToReplay> {
  const json = JSON.parse(await readFile(file, 'utf8')) as unknown;
  return { history: historyFromJson(json), workflowId: sessionWorkflowIdOf(json, file) };
}

/** Fetches the history of a workflow from the server and replays it. */
export async function replayWorkflow(client: Client, workflowId: string, options: Partial<ReplayWorkerOptions> = {}): Promise<ReplayOutcome> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return replayHistory(history, workflowId, options);
}

/** Fetches each workflow's history from the server (one at a time, as the replay goes) and replays them in one worker. */
export function replayWorkflows(client: Client, workflowIds: readonly string[], options: Partial<ReplayWorkerOptions> = {}): AsyncGenerator<ReplayOutcome> {
  return replayHistories((async function* () {
    for (const workflowId of workflowIds) yield { history: await client.workflow.getHandle(workflowId).fetchHistory(), workflowId };
  })(), options);
}

/** Today's workflow code, bundled once for many replays (bundling takes seconds; a replay, milliseconds). */
export function bundleTodaysWorkflows(): Promise<WorkflowBundle> {
  return bundleGatehouseWorkflows();
}
