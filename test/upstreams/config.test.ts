/**
 * The upstream configuration file (`mcp.upstreams`): stdio and Streamable HTTP servers, `${VAR}`
 * from the worker's environment, and clear errors with paths for broken files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadUpstreamConfig, parseUpstreamConfig, UpstreamConfigError } from '../../activities/upstreams';

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseUpstreamConfig(text, 'gatehouse.yaml', env, '/base');
  } catch (err) {
    assert.ok(err instanceof UpstreamConfigError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the configuration to be refused');
}

describe('upstream configuration', () => {
  it('reads stdio and Streamable HTTP servers with defaults, expanding ${VAR} in env and headers', () => {
    const servers = parseUpstreamConfig(
      [
        'mcp:',
        '  upstreams:',
        '    filesystem:',
        '      command: node',
        '      args: [server.js, /srv]',
        '      cwd: tools',
        '      env: { TOKEN: "${FS_TOKEN}" }',
        '      sensitive: { write_file: [content] }',
        '    search:',
        '      url: https://mcp.example.com/mcp',
        '      headers: { Authorization: "Bearer ${SEARCH_TOKEN}" }',
        '      timeoutMs: 5000',
      ].join('\n'),
      'gatehouse.yaml',
      { FS_TOKEN: 'fs-secret', SEARCH_TOKEN: 's3cret' },
      '/base',
    );
    assert.deepEqual(servers, [
      { name: 'filesystem', command: 'node', args: ['server.js', '/srv'], cwd: '/base/tools', env: { TOKEN: 'fs-secret' }, sensitive: { write_file: ['content'] }, timeoutMs: 30_000, maxAttempts: 3 },
      { name: 'search', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer s3cret' }, timeoutMs: 5000, maxAttempts: 3, sensitive: {} },
    ]);
  });

  it('reads `isolate` (per agent, or none: the default, left out)', () => {
    const servers = parseUpstreamConfig('mcp:\n  upstreams:\n    browser: { command: node, isolate: agent }\n    web: { url: "http://x", isolate: none }\n', 'g.yaml', {});
    assert.deepEqual(servers.map((s) => [s.name, s.isolate]), [['browser', 'agent'], ['web', 'none']]);
    assert.deepEqual(issuesOf('mcp:\n  upstreams:\n    fs: { command: node, isolate: session }\n'), ['mcp.upstreams.fs.isolate: expected `none` or `agent`']);
  });

  it('accepts a file without upstreams, and other top-level sections', () => {
    assert.deepEqual(parseUpstreamConfig('other: { a: 1 }\n', 'g.yaml', {}), []);
    assert.deepEqual(parseUpstreamConfig('mcp: {}\n', 'g.yaml', {}), []);
  });

  it('names the path of each problem', () => {
    assert.deepEqual(issuesOf('mcp:\n  upstreams:\n    fs: { args: [x] }\n'), [
      'mcp.upstreams.fs: expected a stdio server `{ command, args?, env?, cwd? }` or a Streamable HTTP server `{ url, headers? }`',
    ]);
    assert.deepEqual(issuesOf('mcp:\n  upstreams:\n    fs: { command: node, url: "http://x" }\n'), [
      'mcp.upstreams.fs: expected a stdio server `{ command, args?, env?, cwd? }` or a Streamable HTTP server `{ url, headers? }`',
    ]);
    assert.deepEqual(issuesOf('mcp:\n  upstreams:\n    fs: { command: node, args: oops }\n'), ['mcp.upstreams.fs.args: expected a list of arguments']);
    assert.deepEqual(issuesOf('mcp:\n  upstreams:\n    web: { url: "ftp://x" }\n'), ['mcp.upstreams.web.url: expected an http(s) URL']);
    assert.deepEqual(issuesOf('mcp:\n  upstreams:\n    Bad.Name: { command: node }\n'), [
      'mcp.upstreams.Bad.Name: expected a server name of lower-case letters, digits, `_` and `-`, starting with a letter',
    ]);
    assert.deepEqual(issuesOf('mcp:\n  upstreams:\n    fs: { command: node, tmeout: 5 }\n'), ["mcp.upstreams.fs: Unrecognized key(s) in object: 'tmeout'"]);
    assert.deepEqual(issuesOf('mcp:\n  upstreams:\n    fs: { command: node, env: { T: "${MISSING}" } }\n'), ['mcp.upstreams.fs.env.T: `MISSING` is not set in the worker\'s environment']);
    assert.match(issuesOf('mcp: [\n')[0]!, /^: invalid YAML: /);
  });

  it('says which file cannot be read', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'gh-cfg-')), 'nope.yaml');
    assert.throws(() => loadUpstreamConfig(missing, {}), (err: unknown) => err instanceof UpstreamConfigError && err.message === `invalid configuration \`${missing}\`: cannot read the file: ENOENT`);
    const file = join(mkdtempSync(join(tmpdir(), 'gh-cfg-')), 'gatehouse.yaml');
    writeFileSync(file, 'mcp:\n  upstreams:\n    fs: { command: "" }\n');
    assert.throws(() => loadUpstreamConfig(file, {}), /invalid configuration `.*gatehouse\.yaml`: mcp\.upstreams\.fs\.command: expected a command/);
  });
});
