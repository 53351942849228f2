/**
 * Classification of upstream MCP tools by the policy (pure): globs and exact names, annotations
 * that only ever make a tool stricter, unclassified tools denied as unknown, and `policy analyze`
 * paths through upstream tools.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { analyzePaths, classifyUpstreamTool, compilePolicy, evaluate, initialSessionState, parsePolicy, type Effect, type PolicyDocument, type ToolInfo } from '../../policies';

const RANK: Record<Effect, number> = { read: 0, write: 1, destructive: 2 };

function policy(doc: Record<string, unknown>): PolicyDocument {
  const parsed = parsePolicy(doc);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));
  return parsed.data;
}

function upstream(name: string, hints: { readOnlyHint?: boolean; destructiveHint?: boolean } = {}): ToolInfo {
  const [server, tool] = [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)];
  return { name, description: tool, effect: 'destructive', environment: 'production', resource: server, estimatesBlastRadius: false, upstream: { server, tool, ...hints } };
}

const DOC = policy({
  upstreamTools: {
    'filesystem.move_file': { effect: 'write', environment: 'staging' },
    'filesystem.read_*': { effect: 'read', idempotent: true },
    'filesystem.list_*': { effect: 'read' },
    'filesystem.write_*': { effect: 'write' },
  },
  tiers: { write: { default: 'approval' } },
});

describe('upstream tool classification', () => {
  it('takes effect and environment from the exact name first, then the first matching glob', () => {
    assert.deepEqual(classifyUpstreamTool(DOC, 'filesystem.move_file', { server: 'filesystem' }), {
      effect: 'write',
      environment: 'staging',
      resource: 'filesystem',
      idempotent: false,
      rule: 'filesystem.move_file',
    });
    assert.deepEqual(classifyUpstreamTool(DOC, 'filesystem.read_text_file', { server: 'filesystem', readOnlyHint: true }), {
      effect: 'read',
      environment: 'production',
      resource: 'filesystem',
      idempotent: true,
      rule: 'filesystem.read_*',
    });
  });

  it('lets destructiveHint and readOnlyHint: false make a tool stricter, and readOnlyHint: true nothing looser', () => {
    assert.equal(classifyUpstreamTool(DOC, 'filesystem.write_file', { server: 'filesystem', readOnlyHint: false, destructiveHint: true })?.effect, 'destructive');
    assert.equal(classifyUpstreamTool(DOC, 'filesystem.write_file', { server: 'filesystem', readOnlyHint: false, destructiveHint: true })?.raisedBy, 'destructiveHint');
    assert.equal(classifyUpstreamTool(DOC, 'filesystem.list_directory', { server: 'filesystem', readOnlyHint: false })?.effect, 'write');
    assert.equal(classifyUpstreamTool(DOC, 'filesystem.write_file', { server: 'filesystem', readOnlyHint: true, destructiveHint: false })?.effect, 'write');
  });

  it('leaves an unclassified upstream tool out of the compiled policy: it is denied as unknown, with a warning', () => {
    const compiled = compilePolicy(DOC, [upstream('filesystem.read_text_file', { readOnlyHint: true }), upstream('filesystem.edit_file')]);
    assert.deepEqual([...compiled.tools.keys()], ['filesystem.read_text_file']);
    assert.deepEqual(compiled.unclassified, ['filesystem.edit_file']);
    assert.ok(compiled.warnings.some((w) => w.code === 'unclassified' && w.message.includes('`filesystem.edit_file`')));
    const state = initialSessionState(compiled, { startedAt: 0 });
    const d = evaluate(compiled, state, { tool: 'filesystem.edit_file', args: {}, reasoning: '' }, {}, 1000);
    assert.equal(d.verdict, 'deny');
    assert.deepEqual(d.reasons.map((r) => r.rule), ['tool.unknown']);
    const read = evaluate(compiled, state, { tool: 'filesystem.read_text_file', args: { path: '/x' }, reasoning: '' }, {}, 1000);
    assert.equal(read.verdict, 'allow');
  });

  it('gates classified tools with the ordinary tiers, transitions and always-blocked globs', () => {
    const doc = policy({
      upstreamTools: { 'filesystem.*': { effect: 'read' }, 'filesystem.write_file': { effect: 'write' }, 'filesystem.move_file': { effect: 'write' } },
      tiers: { write: { default: 'approval' } },
      transitions: [{ from: 'filesystem.list_directory', to: 'filesystem.move_file', within: { steps: 5 } }],
      alwaysBlocked: ['filesystem.delete_*'],
    });
    const compiled = compilePolicy(doc, [upstream('filesystem.list_directory'), upstream('filesystem.write_file'), upstream('filesystem.move_file'), upstream('filesystem.delete_tree')]);
    assert.equal(compiled.tools.get('filesystem.write_file')?.tier, 'approval');
    assert.equal(compiled.tools.get('filesystem.delete_tree')?.tier, 'blocked');
    const paths = analyzePaths(compiled, 2);
    const move = paths.paths.find((p) => p.tools.join(' ') === 'filesystem.list_directory filesystem.move_file');
    assert.equal(move?.status, 'blocked');
    assert.ok(move?.steps[1]?.rules.includes('transition.forbidden'), `rules: ${move?.steps[1]?.rules.join(', ')}`);
  });

  it('keeps the hash of a policy without upstreamTools (the section is optional, not defaulted)', () => {
    const a = compilePolicy(policy({}), []);
    assert.equal('upstreamTools' in a.document, false);
  });

  it('property: annotations never make a tool looser than the policy says', () => {
    const effect = fc.constantFrom<Effect>('read', 'write', 'destructive');
    const hint = fc.option(fc.boolean(), { nil: undefined });
    fc.assert(
      fc.property(effect, hint, hint, (policyEffect, readOnlyHint, destructiveHint) => {
        const doc = policy({ upstreamTools: { 'srv.*': { effect: policyEffect } } });
        const hints = { server: 'srv', ...(readOnlyHint !== undefined ? { readOnlyHint } : {}), ...(destructiveHint !== undefined ? { destructiveHint } : {}) };
        const c = classifyUpstreamTool(doc, 'srv.tool', hints);
        assert.ok(c);
        assert.ok(RANK[c.effect] >= RANK[policyEffect], `${policyEffect} became ${c.effect}`);
        if (destructiveHint === true) assert.equal(c.effect, 'destructive');
        // Compiled the same way: the evaluator sees the classified (never looser) effect.
        const compiled = compilePolicy(doc, [upstream('srv.tool', hints)]);
        assert.ok(RANK[compiled.tools.get('srv.tool')!.info.effect] >= RANK[policyEffect]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('upstream blast-radius estimators', () => {
  const doc = policy({
    upstreamTools: {
      'db.count': { effect: 'read' },
      'db.delete_rows': { effect: 'destructive', estimate: { tool: 'db.count', args: { table: '$args.table', where: '$args.filter.where', mode: 'exact' }, count: 'n' } },
      'db.truncate': { effect: 'destructive', estimate: { tool: 'db.delete_rows' } },
      'other.drop': { effect: 'destructive', estimate: { tool: 'db.count' } },
    },
    tools: { 'db.*': { blastRadius: { approvalAbove: 100 } } },
  });
  const compiled = compilePolicy(doc, [upstream('db.count'), upstream('db.delete_rows'), upstream('db.truncate'), upstream('other.drop')]);

  it('resolves `$args.<path>` from the call and marks the tool as estimating', async () => {
    const { estimateRequest } = await import('../../policies');
    const c = compiled.tools.get('db.delete_rows')!;
    assert.equal(c.info.estimatesBlastRadius, true);
    assert.deepEqual(estimateRequest(c.upstream, { table: 'orders', filter: { where: 'id < 10' } }), { tool: 'db.count', args: { table: 'orders', where: 'id < 10', mode: 'exact' }, count: 'n' });
    assert.equal(estimateRequest(compiled.tools.get('db.count')!.upstream, {}), undefined);
  });

  it('refuses an estimator that is not a read tool of the same server: no estimate, a warning', () => {
    assert.equal(compiled.tools.get('db.truncate')!.info.estimatesBlastRadius, false);
    assert.equal(compiled.tools.get('db.truncate')!.upstream?.estimate, undefined);
    assert.equal(compiled.tools.get('other.drop')!.info.estimatesBlastRadius, false);
    assert.deepEqual(compiled.warnings.filter((w) => w.code === 'estimate').map((w) => w.message), [
      'estimator `db.delete_rows` of `db.truncate` is not a read tool of the same server classified by the policy: no estimate is made',
      'estimator `db.count` of `other.drop` is not a read tool of the same server classified by the policy: no estimate is made',
    ]);
    // Without an estimate the bound asks a human rather than guessing.
    const d = evaluate(compiled, initialSessionState(compiled, { startedAt: 0 }), { tool: 'db.truncate', args: {}, reasoning: '' }, {}, 1000);
    assert.ok(d.reasons.some((r) => r.rule === 'blast-radius.unknown'));
  });
});
