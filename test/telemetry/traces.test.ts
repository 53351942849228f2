/**
 * Traces and metrics of real sessions through the gateway, with OpenTelemetry installed in memory:
 * one trace per proposal from the gateway's request span through the Temporal client, the
 * workflow's update handler, the proposal, its decision and approval wait, to the tool activity;
 * the attributes that say what was decided; no argument value in any attribute or event; and the
 * custom counters and histogram.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { replayFile, replayWorkflow } from '../../worker/replay';
import { sessionBundle } from '../workflows/harness';
import { ATTR, METRIC, SPAN } from '../../telemetry/names';
import { eventually } from '../support/eventually';
import { testTrust } from '../support/trust';
import { spanTree } from './tree';
import { counterValue, histogramCount, only, parentOf, startTracedStack, type TracedStack } from './fixture';

const trust = testTrust();
/** An argument the tool declares sensitive (`env.modifyProduction`'s `value`). */
const SECRET = 'sk-live-TRACE-CANARY-7f3a91';

let s: TracedStack;
before(async () => {
  s = await startTracedStack('telemetry');
});
after(async () => {
  await s?.close();
});

async function startSession(token: string, intent: string): Promise<string> {
  const r = await s.call('POST', '/v1/sessions', token, { intent });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.sessionId as string;
}

/** Proposes through the gateway; a held call is approved or denied by alice, then awaited. */
async function propose(token: string, sessionId: string, tool: string, args: Record<string, unknown>, vote?: 'approve' | 'deny') {
  const first = await s.call('POST', `/v1/sessions/${sessionId}/proposals?wait=${vote ? 1 : 30}`, token, { tool, args, reasoning: 'telemetry test' });
  if (!vote) {
    assert.equal(first.status, 200, JSON.stringify(first.body));
    return first.body;
  }
  const pending = first.status === 202 ? first.body : assert.fail(`expected the call to be held: ${JSON.stringify(first.body)}`);
  const approvalId = pending.approvalId ?? (await eventually(async () => (await s.call('GET', `/v1/sessions/${sessionId}/proposals/${pending.proposalId}?wait=0`, token)).body.approvalId, { what: 'the approval id' }));
  if (vote === 'approve') await s.h.gh.approve(approvalId, { key: trust.approver('alice') });
  else await s.h.gh.deny(approvalId, { key: trust.approver('alice'), reason: 'not now' });
  const done = await s.call('GET', `/v1/sessions/${sessionId}/proposals/${pending.proposalId}?wait=30`, token);
  assert.equal(done.status, 200, JSON.stringify(done.body));
  return done.body;
}

/** The finished spans, once the session's `count` proposal spans have reached the exporter. */
async function proposalSpans(sessionId: string, count: number): Promise<ReadableSpan[]> {
  return eventually(() => {
    const all = s.spans.getFinishedSpans();
    const proposals = all.filter((x) => x.name === SPAN.proposal && x.attributes[ATTR.sessionId] === sessionId);
    // The tool activity's span ends on the worker before the workflow's spans are flushed through the sink.
    return proposals.length === count ? all : undefined;
  }, { what: `${count} proposal spans of session ${sessionId}` });
}

function byId(spans: readonly ReadableSpan[]): Map<string, ReadableSpan> {
  return new Map(spans.map((x) => [x.spanContext().spanId, x]));
}

function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans.filter((x) => parentOf(x) === parent.spanContext().spanId);
}

describe('traces of a session through the gateway', () => {
  it('links gateway → client → workflow update → proposal → decision, approval wait and tool activity, with verdicts and rule ids', async () => {
    const token = await trust.credential('traced-bot', 'eng-007');
    const sessionId = await startSession(token, 'set a log level on the api service');
    const read = await propose(token, sessionId, 'volumes.list', {});
    assert.equal(read.status, 'executed');
    const write = await propose(token, sessionId, 'env.modifyProduction', { service: 'api', key: 'FEATURE_TOKEN', value: SECRET }, 'approve');
    assert.equal(write.status, 'executed', JSON.stringify(write));
    const unknown = await propose(token, sessionId, 'nope.missing', { value: SECRET });
    assert.equal(unknown.status, 'denied');

    const spans = await proposalSpans(sessionId, 3);
    const index = byId(spans);
    const proposalOf = (tool: string) => only(spans, `proposal span of ${tool}`, (x) => x.name === SPAN.proposal && x.attributes[ATTR.sessionId] === sessionId && x.attributes[ATTR.tool] === tool);

    // The approved write: the whole chain, one trace.
    const proposal = proposalOf('env.modifyProduction');
    assert.equal(proposal.attributes[ATTR.status], 'executed');
    assert.equal(proposal.attributes[ATTR.sequence], 2);
    // Workflow spans name their run, and carry no more of the workflow info (no memo, no search attributes).
    assert.equal(proposal.attributes.workflowId, `session-${sessionId}`);
    assert.deepEqual(Object.keys(proposal.attributes).filter((k) => !k.startsWith('gatehouse.')).sort(), ['attempt', 'namespace', 'runId', 'taskQueue', 'workflowId', 'workflowType']);
    const handleUpdate = index.get(parentOf(proposal)!);
    assert.equal(handleUpdate?.name, 'HandleUpdate:propose');
    const startUpdate = index.get(parentOf(handleUpdate!)!);
    assert.equal(startUpdate?.name, 'StartWorkflowUpdate:propose');
    const request = index.get(parentOf(startUpdate!)!);
    assert.equal(request?.name, 'POST /v1/sessions/:id/proposals');
    assert.equal(request?.attributes['http.response.status_code'], 202);
    assert.equal(parentOf(request!), undefined, 'the gateway request is the root');
    const traceId = request!.spanContext().traceId;
    if (process.env.GATEHOUSE_PRINT_SPANS) console.log(spanTree(spans, request!));

    const children = childrenOf(spans, proposal);
    const decision = only(children, 'decision', (x) => x.name === SPAN.decision);
    assert.equal(decision.attributes[ATTR.verdict], 'approve');
    assert.equal(decision.attributes[ATTR.tier], 'approval');
    assert.ok(Array.isArray(decision.attributes[ATTR.ruleIds]) && (decision.attributes[ATTR.ruleIds] as string[]).length > 0, 'the decision names its rules');
    assert.match(String(decision.attributes[ATTR.policyHash]), /^[0-9a-f]{64}$/);
    const wait = only(children, 'approval wait', (x) => x.name === SPAN.approvalWait);
    assert.equal(wait.attributes[ATTR.approvalOutcome], 'approved');
    assert.equal(wait.attributes[ATTR.approvalId], `${sessionId}:2`);
    assert.equal(wait.attributes[ATTR.approvers], 1);
    const startTool = only(children, 'tool activity start', (x) => x.name === 'StartActivity:runTool');
    const runTool = only(childrenOf(spans, startTool), 'tool activity run', (x) => x.name === 'RunActivity:runTool');
    for (const x of [handleUpdate!, startUpdate!, proposal, decision, wait, startTool, runTool]) assert.equal(x.spanContext().traceId, traceId, `${x.name} is in the request's trace`);
    // In time: decided, then waited for the approver, then ran the tool.
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
    assert.ok(ms(decision.startTime) <= ms(wait.startTime), 'the decision precedes the wait');
    assert.ok(ms(wait.endTime) <= ms(startTool.startTime), 'the tool starts after the approval');

    // The allowed read: a decision and a tool run, no wait.
    const readChildren = childrenOf(spans, proposalOf('volumes.list'));
    assert.equal(only(readChildren, 'read decision', (x) => x.name === SPAN.decision).attributes[ATTR.verdict], 'allow');
    assert.equal(readChildren.filter((x) => x.name === SPAN.approvalWait).length, 0);
    assert.equal(readChildren.filter((x) => x.name === 'StartActivity:runTool').length, 1);

    // The unknown tool: denied by rule, nothing runs.
    const denied = proposalOf('nope.missing');
    assert.equal(denied.attributes[ATTR.status], 'denied');
    const deniedDecision = only(childrenOf(spans, denied), 'denial', (x) => x.name === SPAN.decision);
    assert.equal(deniedDecision.attributes[ATTR.verdict], 'deny');
    assert.deepEqual(deniedDecision.attributes[ATTR.ruleIds], ['tool.unknown']);
    assert.equal(childrenOf(spans, denied).filter((x) => x.name === 'StartActivity:runTool').length, 0);

    // No argument value anywhere: attributes, events, names, status messages.
    for (const x of spans) {
      const text = JSON.stringify({ name: x.name, attributes: x.attributes, events: x.events, status: x.status, links: x.links });
      assert.ok(!text.includes(SECRET), `span ${x.name} carries the sensitive argument`);
      assert.ok(!text.includes('FEATURE_TOKEN'), `span ${x.name} carries an argument value`);
    }
  });

  it('an agent’s traceparent starts no trace of its choosing: the request is a root, linked to the agent’s span', async () => {
    const token = await trust.credential('splicing-bot', 'eng-007');
    const sessionId = await startSession(token, 'list volumes');
    // A trace id the agent chose (another session's, say), sampled or not: neither is taken.
    const chosenTrace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const agentSpan = 'bbbbbbbbbbbbbbbb';
    for (const flags of ['01', '00']) {
      const r = await s.call('POST', `/v1/sessions/${sessionId}/proposals?wait=30`, token, { tool: 'volumes.list', args: {}, reasoning: 'splice' }, {
        traceparent: `00-${chosenTrace}-${agentSpan}-${flags}`,
        baggage: 'gatehouse.session_id=someone-else',
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const spans = await proposalSpans(sessionId, 2);
    const index = byId(spans);
    const requests = spans.filter((x) => x.name === 'POST /v1/sessions/:id/proposals' && x.links.some((l) => l.context.traceId === chosenTrace));
    assert.equal(requests.length, 2, 'both requests traced, sampled flag or not');
    for (const request of requests) {
      assert.equal(parentOf(request), undefined, 'the request span is a root');
      assert.notEqual(request.spanContext().traceId, chosenTrace);
      assert.deepEqual(request.links.map((l) => [l.context.traceId, l.context.spanId]), [[chosenTrace, agentSpan]]);
    }
    for (const x of spans.filter((y) => y.attributes[ATTR.sessionId] === sessionId)) {
      assert.notEqual(x.spanContext().traceId, chosenTrace, `${x.name} is not in the agent's trace`);
      const startUpdate = index.get(parentOf(index.get(parentOf(x)!)!)!)!;
      assert.ok(requests.some((req) => req.spanContext().spanId === parentOf(startUpdate)), `${x.name} descends from its request`);
    }
  });

  it('counts proposals by verdict, denials by rule and the approval wait', async () => {
    const before = (await s.metrics.collect()).resourceMetrics;
    const token = await trust.credential('metered-bot', 'eng-007');
    const sessionId = await startSession(token, 'look at volumes and change config');
    await propose(token, sessionId, 'volumes.list', {});
    await propose(token, sessionId, 'nope.missing', {});
    const refused = await propose(token, sessionId, 'env.modifyProduction', { service: 'api', key: 'LOG_LEVEL', value: 'debug' }, 'deny');
    assert.equal(refused.status, 'denied');
    await proposalSpans(sessionId, 3);
    const after = (await s.metrics.collect()).resourceMetrics;

    const delta = (name: string, attrs: Record<string, string>) => counterValue(after, name, attrs) - counterValue(before, name, attrs);
    assert.equal(delta(METRIC.proposals, { verdict: 'allow' }), 1);
    assert.equal(delta(METRIC.proposals, { verdict: 'approve' }), 1);
    assert.equal(delta(METRIC.proposals, { verdict: 'deny' }), 1);
    assert.equal(delta(METRIC.denials, { rule: 'tool.unknown' }), 1);
    assert.equal(delta(METRIC.denials, { rule: 'approval.denied' }), 1);
    const denied = histogramCount(after, METRIC.approvalWait, { outcome: 'denied' });
    assert.equal(denied.count - histogramCount(before, METRIC.approvalWait, { outcome: 'denied' }).count, 1);
    assert.ok(denied.min >= 0);
    const resource = after.resource.attributes['service.name'];
    assert.equal(resource, 'gatehouse-test');
  });

  it('a traced history replays with tracing off, and histories recorded without tracing replay with it on', async () => {
    const token = await trust.credential('replayed-bot', 'eng-007');
    const sessionId = await startSession(token, 'set a log level on the api service');
    await propose(token, sessionId, 'volumes.list', {});
    assert.equal((await propose(token, sessionId, 'env.modifyProduction', { service: 'api', key: 'LOG_LEVEL', value: 'warn' }, 'approve')).status, 'executed');
    assert.equal((await s.call('POST', `/v1/sessions/${sessionId}/end`, token, {})).status, 200);

    const untraced = await replayWorkflow(s.h.gh.client, `session-${sessionId}`, { workflowBundle: await sessionBundle() });
    assert.equal(untraced.ok, true, JSON.stringify(untraced));
    const traced = { workflowBundle: s.workflowBundle, sinks: s.telemetry.workerOptions().sinks };
    assert.equal((await replayWorkflow(s.h.gh.client, `session-${sessionId}`, traced)).ok, true);
    const recorded = await replayFile(join(__dirname, '..', 'fixtures', 'histories', 'approval-approved.json'), traced);
    assert.equal(recorded.ok, true, JSON.stringify(recorded));
  });
});
