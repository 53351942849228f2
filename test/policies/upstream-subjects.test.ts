/**
 * The per-call check of an upstream server's resources and prompts (policies/upstream-subjects.ts)
 * pinned exactly: every unsafe URI refused, anchored patterns, the length bounds at their edges,
 * and each refusal word for word. Policies over real catalogs: test/upstreams/subjects-policy.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileUriPattern, promptPatternFor, resourcePatternFor, serverSubjects, subjectKindOf, subjectRefusal, SUBJECT_METHODS, uriProblem } from '../../policies/upstream-subjects';

const UNSAFE = 'holds a dot segment, an encoded `.`, `/`, `\\` or `%`, a backslash, whitespace or a control character';

describe('synthetic tools and a server\'s patterns', () => {
  it('one kind per upstream method, none for a tool of its own', () => {
    assert.deepEqual(SUBJECT_METHODS, { resource: 'resources/read', prompt: 'prompts/get', completion: 'completion/complete' });
    assert.equal(subjectKindOf('resources/read'), 'resource');
    assert.equal(subjectKindOf('prompts/get'), 'prompt');
    assert.equal(subjectKindOf('completion/complete'), 'completion');
    for (const t of ['tools/call', 'resources/readx', 'read', '']) assert.equal(subjectKindOf(t), undefined, t);
  });

  it('a server\'s own lists only, never the prototype\'s', () => {
    const doc = { upstreamResources: { fs: ['file:///srv/**'], gone: undefined as unknown as string[] }, upstreamPrompts: { fs: ['review-*'] } };
    assert.deepEqual(serverSubjects(doc, 'fs'), { resources: ['file:///srv/**'], prompts: ['review-*'] });
    assert.deepEqual(serverSubjects(doc, 'toString'), { resources: [], prompts: [] });
    assert.deepEqual(serverSubjects(doc, 'gone'), { resources: [], prompts: [] });
    assert.deepEqual(serverSubjects({}, 'fs'), { resources: [], prompts: [] });
  });
});

describe('uriProblem', () => {
  it('empty, longer than 2048, or unsafe', () => {
    assert.equal(uriProblem(''), 'is empty');
    assert.equal(uriProblem(`file:///${'a'.repeat(2040)}`), undefined);
    assert.equal(uriProblem(`file:///${'a'.repeat(2041)}`), 'is longer than 2048 characters');
    for (const uri of ['/a/../b', '../x', './x', 'a/.', 'a/..', 'a/./b', 'file:///a/..?x', 'file:///a/.#f', 'a%2Eb', 'a%2fb', 'a%5Cb', 'a%25b', 'a\\b', 'a b', 'a\tb', 'a\nb', 'a\u0000b', 'a\u001fb', 'a\u007fb']) {
      assert.equal(uriProblem(uri), UNSAFE, JSON.stringify(uri));
    }
  });

  it('a dot inside a name is no dot segment', () => {
    for (const uri of ['file:///a/.hidden', 'a/..b', 'a/b..', 'a/...', 'a.b', 'file:///srv/tree/.hidden/..file', 'a%2', 'a%20']) assert.equal(uriProblem(uri), undefined, uri);
  });
});

describe('URI patterns', () => {
  const m = (pattern: string, uri: string) => compileUriPattern(pattern).test(uri);

  it('* is a run without / ? #; ** any run; anchored at both ends', () => {
    assert.equal(m('file:///srv/*', 'file:///srv/a.txt'), true);
    assert.equal(m('file:///srv/*', 'file:///srv/'), true);
    for (const uri of ['file:///srv/a/b', 'file:///srv/a?x', 'file:///srv/a#x', 'file:///srv', 'xfile:///srv/a']) assert.equal(m('file:///srv/*', uri), false, uri);
    for (const uri of ['file:///srv/a/b?c#d', 'file:///srv/', 'file:///srv/a\nb']) assert.equal(m('file:///srv/**', uri), true, JSON.stringify(uri));
    assert.equal(m('file:///srv/**', 'file:///sr'), false);
    assert.equal(m('a/*/c', 'a/b/c'), true);
    assert.equal(m('a/*/c', 'a/b/c/d'), false);
    assert.equal(m('***', 'a/b'), true);
  });

  it('every other character is itself', () => {
    assert.equal(m('a.b', 'a.b'), true);
    assert.equal(m('a.b', 'axb'), false);
    assert.equal(m('a+b', 'aab'), false);
    assert.equal(m('a+b', 'a+b'), true);
    assert.equal(m('(a|b)?[c]{1}^$\\', '(a|b)?[c]{1}^$\\'), true);
    assert.equal(m('(a|b)', 'a'), false);
    assert.equal(m('x-y/z', 'x-y/z'), true);
  });

  it('compiles a pattern once', () => {
    assert.equal(compileUriPattern('cache:///x'), compileUriPattern('cache:///x'));
  });

  it('the first pattern that classifies a safe URI; none for an unsafe one', () => {
    assert.equal(resourcePatternFor(['file:///other/**', 'file:///srv/*', 'file:///srv/**'], 'file:///srv/a'), 'file:///srv/*');
    assert.equal(resourcePatternFor(['file:///srv/*'], 'file:///srv/a/b'), undefined);
    assert.equal(resourcePatternFor(['**'], 'file:///srv/../etc/passwd'), undefined);
    assert.equal(resourcePatternFor(['**'], ''), undefined);
    assert.equal(resourcePatternFor([], 'file:///srv/a'), undefined);
  });

  it('a prompt name of 1 to 256 characters, by name or glob', () => {
    assert.equal(promptPatternFor(['other', 'review-*', '*'], 'review-pr'), 'review-*');
    assert.equal(promptPatternFor(['*'], 'p'.repeat(256)), '*');
    assert.equal(promptPatternFor(['*'], 'p'.repeat(257)), undefined);
    assert.equal(promptPatternFor(['*'], ''), undefined);
    assert.equal(promptPatternFor(['review'], 'review-pr'), undefined);
  });
});

describe('subjectRefusal', () => {
  const s = { resources: ['file:///srv/**'], prompts: ['review-*'] };

  it('a resource read: its URI must be a safe string the policy classifies', () => {
    assert.equal(subjectRefusal('resource', 'fs', s, { uri: 'file:///srv/a' }), undefined);
    assert.deepEqual(subjectRefusal('resource', 'fs', s, { uri: 7 }), { rule: 'resource.unclassified', message: '`uri` must be a URI string' });
    assert.deepEqual(subjectRefusal('resource', 'fs', s, {}), { rule: 'resource.unclassified', message: '`uri` must be a URI string' });
    assert.deepEqual(subjectRefusal('resource', 'fs', s, { uri: 'file:///srv/../etc' }), { rule: 'resource.unclassified', message: `resource \`file:///srv/../etc\` of \`fs\` is refused: it ${UNSAFE}` });
    assert.deepEqual(subjectRefusal('resource', 'fs', s, { uri: 'file:///etc/passwd' }), {
      rule: 'resource.unclassified', message: 'resource `file:///etc/passwd` of `fs` is not classified by the policy (`upstreamResources.fs`): it is unknown and denied',
    });
  });

  it('a prompt: its name must be a string the policy classifies', () => {
    assert.equal(subjectRefusal('prompt', 'fs', s, { name: 'review-pr' }), undefined);
    assert.deepEqual(subjectRefusal('prompt', 'fs', s, { name: 3 }), { rule: 'prompt.unclassified', message: 'the prompt name must be a string' });
    assert.deepEqual(subjectRefusal('prompt', 'fs', s, { name: 'deploy' }), {
      rule: 'prompt.unclassified', message: 'prompt `deploy` of `fs` is not classified by the policy (`upstreamPrompts.fs`): it is unknown and denied',
    });
  });

  it('a completion: its reference is checked as a prompt or a resource, nothing else', () => {
    assert.equal(subjectRefusal('completion', 'fs', s, { ref: { type: 'ref/prompt', name: 'review-pr' } }), undefined);
    assert.equal(subjectRefusal('completion', 'fs', s, { ref: { type: 'ref/prompt', name: 'deploy' } })?.rule, 'prompt.unclassified');
    assert.equal(subjectRefusal('completion', 'fs', s, { ref: { type: 'ref/resource', uri: 'file:///srv/{x}' } }), undefined);
    assert.deepEqual(subjectRefusal('completion', 'fs', s, { ref: { type: 'ref/resource' } }), { rule: 'resource.unclassified', message: 'the reference `uri` must be a URI string' });
    const none = { rule: 'resource.unclassified', message: 'a completion must name a prompt (`ref/prompt`) or a resource template (`ref/resource`)' };
    assert.deepEqual(subjectRefusal('completion', 'fs', s, {}), none);
    assert.deepEqual(subjectRefusal('completion', 'fs', s, { ref: { type: 'ref/tool', name: 'review-pr' } }), none);
  });

  it('shows at most 200 characters of what it refuses', () => {
    const long = `file:///etc/${'a'.repeat(300)}`;
    assert.equal(subjectRefusal('resource', 'fs', s, { uri: long })?.message, `resource \`${long.slice(0, 200)}…\` of \`fs\` is not classified by the policy (\`upstreamResources.fs\`): it is unknown and denied`);
    const exact = `file:///etc/${'a'.repeat(188)}`;
    assert.equal(exact.length, 200);
    assert.equal(subjectRefusal('resource', 'fs', s, { uri: exact })?.message, `resource \`${exact}\` of \`fs\` is not classified by the policy (\`upstreamResources.fs\`): it is unknown and denied`);
  });
});
