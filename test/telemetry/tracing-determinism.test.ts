/**
 * Tracing changes nothing a workflow records: with Gatehouse's tracing interceptor module an
 * update's answer reaches the SDK in the same microtask turn as without it, so a history recorded
 * with tracing on replays with it off and the other way round, even when an update handler and the
 * main flow resume in one workflow task (the race that made a traced session history fail to replay
 * untraced: TMPRL1100, "Update machine does not handle this event"). The race workflow puts the
 * update's answer on both sides of the main flow's next command, round by round. A failed call's span
 * names its error and nothing of its message, which may quote what an agent sent.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { SpanStatusCode } from '@opentelemetry/api';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type InjectedSinks, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { OpenTelemetrySinks, SerializableSpan } from '@temporalio/interceptors-opentelemetry';
import { ActivityInboundInterceptor } from '../../telemetry/activity-interceptors';
import { TRACING_WORKFLOW_MODULES } from '../../telemetry/install';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { replayHistory } from '../../worker/replay';
import { getTestServers } from '../support/servers';
import { quietBundleLogger } from '../support/shared-bundle';
import { joinUpdate, raceWorkflow } from './fixtures/race-workflow';
import { failingCallsWorkflow, refuseUpdate } from './fixtures/failing-workflow';

// Worker state changes are logged at INFO: keep the test output to the runner's lines.
Runtime.install({ logger: new DefaultLogger('WARN') });

type History = temporal.api.history.v1.IHistory;
const EventType = temporal.api.enums.v1.EventType;
const ROUNDS = 12;
const RACE_WORKFLOW = require.resolve('./fixtures/race-workflow');
const PACKAGE_TRACING_MODULE = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

let native: NativeConnection;
let connection: Connection;
let client: Client;
let namespace: string;
const bundle = (modules: readonly string[]) =>
  bundleWorkflowCode({ workflowsPath: RACE_WORKFLOW, workflowInterceptorModules: [...modules], logger: quietBundleLogger() });
let untraced: WorkflowBundleWithSourceMap;
let traced: WorkflowBundleWithSourceMap;

before(async () => {
  const servers = await getTestServers();
  namespace = servers.namespace;
  native = await NativeConnection.connect({ address: servers.temporalAddress });
  connection = await Connection.connect({ address: servers.temporalAddress });
  client = new Client({ connection, namespace });
  [untraced, traced] = await Promise.all([bundle([]), bundle(TRACING_WORKFLOW_MODULES)]);
});

after(async () => {
  await connection?.close();
  await native?.close();
});

/** The workflow spans' sink: the spans, kept (the worker calls it outside replay only). */
function spanSink(): { spans: SerializableSpan[]; names: () => string[]; sinks: InjectedSinks<OpenTelemetrySinks> } {
  const spans: SerializableSpan[] = [];
  return { spans, names: () => spans.map((s) => s.name), sinks: { exporter: { export: { fn: (_info, exported) => void spans.push(...exported) } } } };
}

/**
 * Runs the race workflow for `ROUNDS` rounds on `workflowBundle` and returns its history. Round
 * `k`'s activity returns only after the round's update was accepted, so both resume on its result.
 */
async function recordRace(workflowBundle: WorkflowBundleWithSourceMap, sinks?: InjectedSinks<OpenTelemetrySinks>): Promise<{ workflowId: string; history: History }> {
  const taskQueue = `race-${randomUUID()}`;
  const workflowId = `race-${randomUUID()}`;
  const rounds = Array.from({ length: ROUNDS }, () => {
    let started!: () => void;
    let release!: () => void;
    return { started: new Promise<void>((r) => (started = r)), markStarted: () => started(), released: new Promise<void>((r) => (release = r)), release: () => release() };
  });
  const tick = async (round: number) => {
    rounds[round]!.markStarted();
    await rounds[round]!.released;
    return round;
  };
  const worker = await Worker.create({ connection: native, namespace, taskQueue, workflowBundle, activities: { tick }, ...(sinks ? { sinks } : {}) });
  const history = await worker.runUntil(async () => {
    const handle = await client.workflow.start(raceWorkflow, { taskQueue, workflowId, args: [ROUNDS] });
    for (let k = 0; k < ROUNDS; k++) {
      await rounds[k]!.started;
      const update = await handle.startUpdate(joinUpdate, { args: [k], waitForStage: WorkflowUpdateStage.ACCEPTED });
      rounds[k]!.release();
      assert.equal(await update.result(), k);
    }
    assert.equal(await handle.result(), (ROUNDS * (ROUNDS - 1)) / 2);
    return handle.fetchHistory();
  });
  return { workflowId, history };
}

/**
 * The commands the races decide, in the order recorded: `U` an update answered, `S` an activity
 * scheduled, `C` the workflow completed.
 */
function raceOrder(history: History): string {
  const letters: Partial<Record<number, string>> = {
    [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED]: 'U',
    [EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]: 'S',
    [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED]: 'C',
  };
  return (history.events ?? []).map((e) => letters[e.eventType as number] ?? '').join('');
}

describe('tracing adds no microtask turn to what a workflow awaits', () => {
  it('a history recorded without tracing records the same commands in the same order as one recorded with it, and each replays the other way', async () => {
    const plain = await recordRace(untraced);
    const spans = spanSink();
    const withTracing = await recordRace(traced, spans.sinks);
    assert.ok(spans.names().includes('HandleUpdate:join'), `the traced run made update spans: ${spans.names().join(', ')}`);
    assert.ok(spans.names().includes('StartActivity:tick'), 'and activity spans');

    const order = raceOrder(plain.history);
    // The rounds straddle the update's answer: early rounds schedule first, later ones answer first.
    assert.match(order, /SU/);
    assert.match(order, /US/);
    assert.equal(raceOrder(withTracing.history), order);

    const tracedReplay = await replayHistory(plain.history, plain.workflowId, { workflowBundle: traced, sinks: spans.sinks });
    assert.equal(tracedReplay.ok, true, JSON.stringify(tracedReplay));
    const untracedReplay = await replayHistory(withTracing.history, withTracing.workflowId, { workflowBundle: untraced });
    assert.equal(untracedReplay.ok, true, JSON.stringify(untracedReplay));
  });

  it('the package’s own interceptors would move an update’s answer: the probe has teeth', async () => {
    const plain = await recordRace(untraced);
    const packageBundle = await bundle([PACKAGE_TRACING_MODULE]);
    const outcome = await replayHistory(plain.history, plain.workflowId, { workflowBundle: packageBundle, sinks: spanSink().sinks });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.ok === false && outcome.kind, 'nondeterminism');
  });

  it('a failed call’s span names its error, never its message: what an agent sent stays out of the traces', async () => {
    const canary = 'sk-live-INTERCEPTOR-CANARY-51c2';
    const taskQueue = `failing-${randomUUID()}`;
    const failing = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/failing-workflow'), workflowInterceptorModules: [...TRACING_WORKFLOW_MODULES], logger: quietBundleLogger() });
    const sink = spanSink();
    const fail = async (value: string) => {
      throw ApplicationFailure.nonRetryable(`the upstream said no to ${value}`);
    };
    // The activity's span, with a provider of this test's own.
    const activitySpans = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(activitySpans)] });
    const tracer = provider.getTracer('test');
    const worker = await Worker.create({
      connection: native,
      namespace,
      taskQueue,
      workflowBundle: failing,
      activities: { fail },
      sinks: sink.sinks,
      interceptors: { activity: [(ctx) => ({ inbound: new ActivityInboundInterceptor(ctx, { tracer }) })] },
    });
    await worker.runUntil(async () => {
      const handle = await client.workflow.start(failingCallsWorkflow, { taskQueue, workflowId: `failing-${randomUUID()}`, args: [canary] });
      await assert.rejects(handle.executeUpdate(refuseUpdate, { args: [`invalid ${canary}`] }), WorkflowUpdateFailedError);
      await assert.rejects(handle.executeUpdate(refuseUpdate, { args: [canary] }), WorkflowUpdateFailedError);
      await handle.result();
    });
    const all = [...sink.spans, ...activitySpans.getFinishedSpans().map((x) => ({ name: x.name, status: x.status, attributes: x.attributes, events: x.events }))];
    const failed = all.filter((x) => x.status.code === SpanStatusCode.ERROR).map((x) => `${x.name} ${x.status.message}`);
    assert.deepEqual(failed.sort(), ['HandleUpdate:refuse ApplicationFailure', 'RunActivity:fail ApplicationFailure', 'StartActivity:fail ActivityFailure', 'ValidateUpdate:refuse Error']);
    for (const x of all) assert.ok(!JSON.stringify(x).includes(canary), `span ${x.name} carries the value: ${JSON.stringify(x)}`);
    await provider.shutdown();
  });
});
