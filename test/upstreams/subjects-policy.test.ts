/**
 * What a policy lets an agent read of an upstream's resources and prompts (pure): anchored URI
 * patterns (`*` one segment, `**` any), URIs that are never matched whatever the pattern (dot
 * segments, encoded separators), the synthetic tools classified only when the policy names
 * something of their server, the decision naming `resource.unclassified`, and `policy check`'s
 * messages for a bad section.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compilePolicy, evaluate, initialSessionState, parsePolicy, parsePolicyText, resourcePatternFor, uriProblem, type PolicyDocument, type ToolInfo } from '../../policies';

function policy(doc: Record<string, unknown>): PolicyDocument {
  const parsed = parsePolicy(doc);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));
  return parsed.data;
}

function synthetic(server: string, method: string): ToolInfo {
  return { name: `${server}.${method}`, description: method, effect: 'read', environment: 'production', resource: server, estimatesBlastRadius: false, upstream: { server, tool: method, readOnlyHint: true } };
}

const DOCS = 'file:///srv/docs/*';
const TREE = 'file:///srv/tree/**';

describe('resource URI patterns', () => {
  it('are anchored: `*` is one segment, `**` any run, everything else literal', () => {
    const cases: [string, string, boolean][] = [
      [DOCS, 'file:///srv/docs/a.md', true],
      [DOCS, 'file:///srv/docs/sub/a.md', false],
      [DOCS, 'file:///srv/docs/a.md?x=1', false],
      [DOCS, 'file:///srv/docs/', true],
      [DOCS, 'xfile:///srv/docs/a.md', false],
      [DOCS, 'file:///srv/docs/a.md#frag', false],
      [TREE, 'file:///srv/tree/a/b/c.txt', true],
      [TREE, 'file:///srv/treehouse/a', false],
      ['demo://r/a.b', 'demo://r/aXb', false],
      ['demo://r/(x)+', 'demo://r/(x)+', true],
    ];
    for (const [pattern, uri, want] of cases) assert.equal(resourcePatternFor([pattern], uri) !== undefined, want, `${pattern} vs ${uri}`);
  });

  it('never match a URI with a dot segment or an encoded `.`, `/`, `\\` or `%`, whatever the pattern', () => {
    for (const uri of ['file:///srv/tree/../etc/passwd', 'file:///srv/tree/./a', 'file:///srv/tree/..', 'file:///srv/tree/..?x', 'file:///srv/tree/%2e%2e/x', 'file:///srv/tree/a%2Fb', 'file:///srv/tree/a%5cb', 'file:///srv/tree/%252e', 'file:///srv/tree/a\\b', 'file:///srv/tree/a b', 'file:///srv/tree/a\u0000']) {
      assert.equal(resourcePatternFor([TREE, 'file:**'], uri), undefined, uri);
      assert.ok(uriProblem(uri), uri);
    }
    assert.equal(resourcePatternFor([TREE], 'file:///srv/tree/.hidden/..file'), TREE, 'a name that starts with dots is not a dot segment');
  });

  it('property: a URI `**` accepts under a prefix never names a dot segment', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', '.', '..', '%2e', '%2F', 'b%20c', '\\', ''), { maxLength: 6 }), (segments) => {
        const uri = `file:///srv/tree/${segments.join('/')}`;
        if (resourcePatternFor([TREE], uri) === undefined) return;
        assert.ok(!uri.split('/').some((s) => s === '.' || s === '..'), uri);
        assert.ok(!/%2e|%2f|%5c|%25|\\/i.test(uri), uri);
      }),
    );
  });
});

describe('the synthetic tools of a server', () => {
  const catalog = [synthetic('fs', 'resources/read'), synthetic('fs', 'prompts/get'), synthetic('fs', 'completion/complete'), synthetic('other', 'resources/read')];
  const doc = policy({ upstreamResources: { fs: [DOCS] }, upstreamPrompts: { fs: ['summarize', 'review-*'] }, upstreamTools: { '*': { effect: 'write' } } });
  const compiled = compilePolicy(doc, catalog);
  const state = initialSessionState(compiled, { startedAt: 0 });
  const decide = (tool: string, args: Record<string, unknown>) => evaluate(compiled, state, { tool, args, reasoning: '' }, undefined, 1_000);

  it('are reads classified only where the policy names something of their server; `upstreamTools` globs never classify them', () => {
    assert.equal(compiled.tools.get('fs.resources/read')?.info.effect, 'read');
    assert.equal(compiled.tools.get('fs.prompts/get')?.info.effect, 'read');
    assert.ok(compiled.tools.has('fs.completion/complete'));
    assert.equal(compiled.tools.has('other.resources/read'), false, '`*` in upstreamTools does not classify another server\'s resources');
    assert.equal(compiled.warnings.filter((w) => w.code === 'unclassified').length, 0, 'no warning per unnamed synthetic tool');
  });

  it('a read of a classified URI is allowed; any other is denied as `resource.unclassified`', () => {
    assert.equal(decide('fs.resources/read', { uri: 'file:///srv/docs/a.md' }).verdict, 'allow');
    for (const uri of ['file:///srv/secrets/a', 'file:///srv/docs/../secrets/a', 'file:///srv/docs/..%2fsecrets']) {
      const d = decide('fs.resources/read', { uri });
      assert.equal(d.verdict, 'deny', uri);
      assert.deepEqual(d.reasons.filter((r) => r.rule.endsWith('.unclassified')).map((r) => r.rule), ['resource.unclassified'], uri);
    }
    assert.equal(decide('other.resources/read', { uri: 'file:///srv/docs/a.md' }).reasons[0]?.rule, 'tool.unknown');
  });

  it('a prompt by name or glob; a completion by the prompt or template it names', () => {
    assert.equal(decide('fs.prompts/get', { name: 'review-pr' }).verdict, 'allow');
    assert.deepEqual(decide('fs.prompts/get', { name: 'exfiltrate' }).reasons.map((r) => r.rule), ['prompt.unclassified']);
    assert.equal(decide('fs.completion/complete', { ref: { type: 'ref/prompt', name: 'summarize' }, argument: { name: 'a', value: '' } }).verdict, 'allow');
    assert.equal(decide('fs.completion/complete', { ref: { type: 'ref/resource', uri: 'file:///srv/docs/{name}' }, argument: { name: 'name', value: '' } }).verdict, 'allow');
    assert.deepEqual(decide('fs.completion/complete', { ref: { type: 'ref/resource', uri: 'file:///etc/{name}' }, argument: { name: 'name', value: '' } }).reasons.map((r) => r.rule), ['resource.unclassified']);
  });

  it('a shadow policy still refuses an unclassified resource (a floor, like an unknown tool)', () => {
    const shadow = compilePolicy({ ...doc, mode: 'shadow' }, catalog);
    const d = evaluate(shadow, initialSessionState(shadow, { startedAt: 0 }), { tool: 'fs.resources/read', args: { uri: 'file:///etc/passwd' }, reasoning: '' }, undefined, 1_000);
    assert.equal(d.verdict, 'deny');
  });
});

describe('policy check of the sections', () => {
  it('names the path and the problem', () => {
    const parsed = parsePolicy({ upstreamResources: { Bad: ['file:///x'], fs: ['no-scheme/*', 'file:///a/***'], ok: [] }, upstreamPrompts: { fs: 'summarize' } });
    assert.equal(parsed.success, false);
    const issues = parsed.success ? [] : parsed.issues.map((i) => `${i.path}: ${i.message.split(', got')[0]}`);
    assert.ok(issues.some((i) => i.startsWith('upstreamResources.Bad') && /server name/.test(i)), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('upstreamResources.fs[0]') && /URI pattern with a scheme/.test(i)), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('upstreamResources.fs[1]')), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('upstreamResources.ok') && /at least one/.test(i)), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('upstreamPrompts.fs') && /list of prompt names/.test(i)), issues.join('\n'));
  });
});

describe('the example and the documented snippets', () => {
  it('policies/examples/mcp-everything.yaml and every `upstreamResources` block of the docs parse, and classify what they say', () => {
    const root = join(__dirname, '..', '..');
    const example = parsePolicyText(readFileSync(join(root, 'policies/examples/mcp-everything.yaml'), 'utf8'), 'mcp-everything.yaml');
    assert.ok(example.success, JSON.stringify(!example.success && example.issues));
    const catalog = [synthetic('everything', 'resources/read'), synthetic('everything', 'prompts/get')];
    const compiled = compilePolicy(example.data, catalog);
    const state = initialSessionState(compiled, { startedAt: 0 });
    assert.equal(evaluate(compiled, state, { tool: 'everything.resources/read', args: { uri: 'demo://resource/static/document/features.md' }, reasoning: '' }, undefined, 1).verdict, 'allow');
    assert.equal(evaluate(compiled, state, { tool: 'everything.resources/read', args: { uri: 'demo://resource/dynamic/blob/1' }, reasoning: '' }, undefined, 1).verdict, 'deny');
    for (const doc of ['docs/reference/policy.md', 'docs/tutorials/gating-mcp-servers.md']) {
      const blocks = [...readFileSync(join(root, doc), 'utf8').matchAll(/```yaml\n(upstreamResources:[\s\S]*?)```/g)].map((m) => m[1]!);
      assert.ok(blocks.length > 0, doc);
      for (const block of blocks) {
        const parsed = parsePolicyText(block, doc);
        assert.ok(parsed.success, `${doc}: ${JSON.stringify(!parsed.success && parsed.issues)}`);
      }
    }
  });
});
