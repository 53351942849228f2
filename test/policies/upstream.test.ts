/**
 * Classification of upstream MCP tools by the policy (policies/upstream.ts) pinned exactly: the
 * effect order, hints that only make a tool stricter, exact name before glob, a server's synthetic
 * tools, estimators refused word for word, and estimator arguments. Wider cases: test/upstreams/classify.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, type Effect, type PolicyDocument, type ToolInfo } from '../../policies';
import { classifyCatalog, classifyUpstreamTool, estimateRequest, hintFloor, stricterEffect, upstreamRuleFor, valueAtPath } from '../../policies/upstream';

function policy(doc: Record<string, unknown>): PolicyDocument {
  const parsed = parsePolicy(doc);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));
  return parsed.data;
}

function tool(name: string, upstream?: { server: string; tool: string; readOnlyHint?: boolean; destructiveHint?: boolean }): ToolInfo {
  return { name, description: name, effect: 'destructive', environment: 'production', resource: 'x', estimatesBlastRadius: false, ...(upstream ? { upstream } : {}) };
}

const DOC = policy({
  upstreamTools: {
    'gh.*': { effect: 'read' },
    'gh.delete_repo': { effect: 'destructive', resource: 'repos', environment: 'staging', idempotent: true },
    'gh.merge_*': { effect: 'write' },
    'gh.write_x': { effect: 'write' },
    'gh.close_issue': { effect: 'write', estimate: { tool: 'gh.list_issues', args: { repo: '$args.target.repo', state: 'open', n: 3 }, count: 'items' } },
    'gh.close_pr': { effect: 'write', estimate: { tool: 'gh.write_x', args: {} } },
    'gh.close_all': { effect: 'write', estimate: { tool: 'lab.list_issues', args: {} } },
    'gh.close_any': { effect: 'write', estimate: { tool: 'gh.missing', args: {} } },
    'lab.*': { effect: 'read' },
  },
  upstreamResources: { fs: ['file:///srv/**'], both: ['file:///b/**'] },
  upstreamPrompts: { pr: ['review-*'], both: ['x'] },
});

describe('effects and hints', () => {
  it('the stricter of two effects, read < write < destructive', () => {
    const order: Effect[] = ['read', 'write', 'destructive'];
    for (const a of order) for (const b of order) assert.equal(stricterEffect(a, b), order[Math.max(order.indexOf(a), order.indexOf(b))], `${a} ${b}`);
  });

  it('destructiveHint raises to destructive, readOnlyHint: false to write, nothing else lowers or raises', () => {
    assert.deepEqual(hintFloor({ destructiveHint: true, readOnlyHint: true }), { effect: 'destructive', by: 'destructiveHint' });
    assert.deepEqual(hintFloor({ readOnlyHint: false }), { effect: 'write', by: 'readOnlyHint' });
    assert.deepEqual(hintFloor({ readOnlyHint: true, destructiveHint: false }), { effect: 'read' });
    assert.deepEqual(hintFloor({}), { effect: 'read' });
  });
});

describe('classifyUpstreamTool', () => {
  it('the exact name before any glob, then the first glob in document order', () => {
    assert.equal(upstreamRuleFor(DOC, 'gh.delete_repo')?.key, 'gh.delete_repo');
    assert.equal(upstreamRuleFor(DOC, 'gh.merge_pr')?.key, 'gh.*');
    assert.equal(upstreamRuleFor(DOC, 'other.x'), undefined);
    assert.equal(upstreamRuleFor(policy({}), 'gh.x'), undefined);
    assert.deepEqual(classifyUpstreamTool(DOC, 'gh.delete_repo', { server: 'gh' }), { effect: 'destructive', environment: 'staging', resource: 'repos', idempotent: true, rule: 'gh.delete_repo' });
    assert.deepEqual(classifyUpstreamTool(DOC, 'gh.list', { server: 'gh' }), { effect: 'read', environment: 'production', resource: 'gh', idempotent: false, rule: 'gh.*' });
    assert.equal(classifyUpstreamTool(DOC, 'other.list', { server: 'other' }), undefined);
  });

  it('says which hint raised a tool, only when it did', () => {
    assert.equal(classifyUpstreamTool(DOC, 'gh.list', { server: 'gh', readOnlyHint: false })?.raisedBy, 'readOnlyHint');
    assert.equal(classifyUpstreamTool(DOC, 'gh.list', { server: 'gh', destructiveHint: true })?.raisedBy, 'destructiveHint');
    const same = classifyUpstreamTool(DOC, 'gh.delete_repo', { server: 'gh', destructiveHint: true });
    assert.equal(same?.effect, 'destructive');
    assert.equal('raisedBy' in same!, false);
    assert.equal('estimate' in same!, false);
  });

  it('a server\'s synthetic tools are reads, classified only by what the policy names of it', () => {
    const sub = (server: string, t: string) => classifyUpstreamTool(DOC, `${server}.${t}`, { server, tool: t });
    assert.deepEqual(sub('fs', 'resources/read'), {
      effect: 'read', environment: 'production', resource: 'fs', idempotent: true, rule: 'upstreamResources.fs', subject: { kind: 'resource', server: 'fs', resources: ['file:///srv/**'], prompts: [] },
    });
    assert.equal(sub('fs', 'prompts/get'), undefined);
    assert.equal(sub('fs', 'completion/complete')?.rule, 'upstreamResources.fs|upstreamPrompts.fs');
    assert.equal(sub('pr', 'prompts/get')?.rule, 'upstreamPrompts.pr');
    assert.equal(sub('pr', 'resources/read'), undefined);
    assert.equal(sub('pr', 'completion/complete')?.rule, 'upstreamResources.pr|upstreamPrompts.pr');
    assert.equal(sub('both', 'completion/complete')?.subject?.kind, 'completion');
    assert.equal(sub('gh', 'resources/read'), undefined, 'the `gh.*` glob never classifies a synthetic tool');
    assert.equal(sub('gh', 'completion/complete'), undefined);
    assert.equal(classifyUpstreamTool(DOC, 'gh.resources', { server: 'gh', tool: 'resources' })?.rule, 'gh.*');
  });
});

describe('classifyCatalog', () => {
  const gh = (t: string) => tool(`gh.${t}`, { server: 'gh', tool: t });
  const catalog = [tool('billing.query'), gh('close_issue'), gh('list_issues'), tool('lab.list_issues', { server: 'lab', tool: 'list_issues' }), gh('close_pr'), gh('write_x'), gh('close_all'), gh('close_any'), tool('zz.x', { server: 'zz', tool: 'x' })];
  const c = classifyCatalog(DOC, catalog);

  it('built-ins unchanged, upstream tools with the policy\'s classification, the rest unclassified', () => {
    assert.deepEqual(c.tools.map((t) => t.name), ['billing.query', 'gh.close_issue', 'gh.list_issues', 'lab.list_issues', 'gh.close_pr', 'gh.write_x', 'gh.close_all', 'gh.close_any']);
    assert.equal(c.tools[0], catalog[0]);
    assert.deepEqual(c.unclassified, ['zz.x']);
    const list = c.tools[2]!;
    assert.deepEqual([list.effect, list.environment, list.resource, list.estimatesBlastRadius], ['read', 'production', 'gh', false]);
  });

  it('an estimator only when it is a read of the same server the policy classifies', () => {
    assert.equal(c.tools[1]!.estimatesBlastRadius, true);
    assert.equal(c.upstream.get('gh.close_issue')?.estimate?.tool, 'gh.list_issues');
    const refused = (t: string, e: string) => ({ tool: t, message: `estimator \`${e}\` of \`${t}\` is not a read tool of the same server classified by the policy: no estimate is made` });
    assert.deepEqual(c.problems, [refused('gh.close_pr', 'gh.write_x'), refused('gh.close_all', 'lab.list_issues'), refused('gh.close_any', 'gh.missing')]);
    for (const t of ['gh.close_pr', 'gh.close_all', 'gh.close_any']) {
      assert.equal(c.upstream.get(t)?.estimate, undefined, t);
      assert.equal(c.upstream.get(t)?.rule, t);
      assert.equal(c.tools.find((x) => x.name === t)?.estimatesBlastRadius, false, t);
    }
  });
});

describe('estimator calls', () => {
  it('reads a dotted path, undefined through anything but an object', () => {
    assert.deepEqual(valueAtPath({ a: { b: [1, { c: 2 }] } }, 'a.b.1'), { c: 2 });
    assert.equal(valueAtPath({ a: { b: [1, { c: 2 }] } }, 'a.b.1.c'), 2);
    assert.equal(valueAtPath({ a: 'text' }, 'a.length'), undefined);
    assert.equal(valueAtPath({ a: null }, 'a.b'), undefined);
    assert.equal(valueAtPath({}, 'a.b'), undefined);
  });

  it('fills $args.<path> from the call, keeps other values, and the count path when given', () => {
    const close = c('gh.close_issue');
    assert.deepEqual(estimateRequest(close, { target: { repo: 'acme/web' } }), { tool: 'gh.list_issues', args: { repo: 'acme/web', state: 'open', n: 3 }, count: 'items' });
    assert.deepEqual(estimateRequest(close, {}), { tool: 'gh.list_issues', args: { repo: undefined, state: 'open', n: 3 }, count: 'items' });
    const noCount = policy({ upstreamTools: { 'gh.x': { effect: 'write', estimate: { tool: 'gh.y', args: { q: '$args', r: 'x$args.a' } } } } });
    assert.deepEqual(estimateRequest(classifyUpstreamTool(noCount, 'gh.x', { server: 'gh' }), { a: 1 }), { tool: 'gh.y', args: { q: '$args', r: 'x$args.a' } });
    assert.equal(estimateRequest(c('gh.list_issues'), {}), undefined);
    assert.equal(estimateRequest(undefined, {}), undefined);
  });

  function c(name: string) {
    return classifyUpstreamTool(DOC, name, { server: 'gh' });
  }
});
