/**
 * docs/reference/configuration.md against the code: every variable its tables name is one the code
 * reads (no stale rows), and the variables a user sets to run each process have a row saying what
 * they do and their default.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../e2e/processes';

/** The folders of code that runs (not tests, not benchmarks). */
const SOURCE_DIRS = ['activities', 'approvals', 'audit', 'cli', 'client', 'console', 'demo', 'gateway', 'policies', 'telemetry', 'worker', 'workflows', 'packages/client/src', 'clients/python/src'];

function sourceText(): string {
  const parts: string[] = [readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (name === 'node_modules') continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|py)$/.test(name)) parts.push(readFileSync(full, 'utf8'));
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(ROOT, dir));
  return parts.join('\n');
}

/** Each table row's variables (the first cell), with the row's last cell: its default. */
function rows(): Map<string, string> {
  const page = readFileSync(join(ROOT, 'docs', 'reference', 'configuration.md'), 'utf8');
  const out = new Map<string, string>();
  for (const line of page.split('\n')) {
    const cells = /^\|(.*)\|\s*$/.exec(line)?.[1]?.split(/(?<!\\)\|/).map((c) => c.trim());
    if (!cells || cells.length < 3) continue;
    for (const m of cells[0]!.matchAll(/`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`/g)) out.set(m[1]!, cells.at(-1)!);
  }
  return out;
}

describe('docs/reference/configuration.md', () => {
  it('names only variables the code reads', () => {
    const code = sourceText();
    const stale = [...rows().keys()].filter((name) => !new RegExp(`\\b${name}\\b`).test(code));
    assert.deepEqual(stale, []);
  });

  it('has a row, with its default, for each variable a deployment sets per process', () => {
    const documented = rows();
    const needed = [
      'GATEHOUSE_POLICY', 'GATEHOUSE_CATALOG', 'GATEHOUSE_CONFIG', 'GATEHOUSE_SLACK_SIGNING_KEY', 'SLACK_HOST',
      'GATEHOUSE_MAX_CACHED_SESSIONS', 'GATEHOUSE_WORKFLOW_TASK_SLOTS',
      'GATEHOUSE_GATEWAY_HOST', 'GATEHOUSE_GATEWAY_PORT', 'GATEHOUSE_GATEWAY_RATE', 'GATEHOUSE_GATEWAY_BURST', 'GATEHOUSE_GATEWAY_MAX_SESSIONS', 'GATEHOUSE_GATEWAY_IN_FLIGHT',
      'GATEHOUSE_MCP_IDLE_SECONDS', 'GATEHOUSE_MCP_HOLD_SECONDS', 'GATEHOUSE_URL', 'GATEHOUSE_STACK_FILE',
      'GATEHOUSE_INTENT_HALF_LIFE_MS', 'GATEHOUSE_EMBEDDINGS_THREADS', 'GATEHOUSE_CONSOLE_URL',
      'GATEHOUSE_OWNER_DATABASE_URL', 'GATEHOUSE_RUNTIME_DB_ROLE', 'GATEHOUSE_RUNTIME_DB_PASSWORD',
    ];
    assert.deepEqual(needed.filter((name) => !documented.has(name)), [], 'rows missing');
    assert.deepEqual(needed.filter((name) => documented.get(name) === ''), [], 'rows without a default');
  });

  it('says which gateway variables exist: every `GATEHOUSE_GATEWAY_*` the gateway reads has a row', () => {
    const gateway = readFileSync(join(ROOT, 'gateway', 'start.ts'), 'utf8');
    const read = new Set([...gateway.matchAll(/env(?:\.|, ')(GATEHOUSE_GATEWAY_[A-Z_]+)/g)].map((m) => m[1]!));
    assert.ok(read.size >= 6, `the gateway reads its variables (${[...read].join(', ')})`);
    const documented = rows();
    assert.deepEqual([...read].filter((name) => !documented.has(name)), []);
  });
});
