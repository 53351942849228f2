/**
 * The runtime role's grants as the docs print them are the grants the code applies: a DBA who runs
 * docs/concepts/audit.md's SQL by hand gets exactly what `ensureRuntimeRole` would do, and the
 * docker-compose comment names every table the role may touch.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RUNTIME_GRANTS, runtimeRoleSql } from '../../audit/roles';
import { ROOT } from '../e2e/processes';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The body of every fenced block of `lang` in `text`. */
function fencedBlocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);
}

describe('the runtime role in the docs', () => {
  it('docs/concepts/audit.md prints exactly the statements runtimeRoleSql makes', () => {
    const page = readFileSync(join(ROOT, 'docs', 'concepts', 'audit.md'), 'utf8');
    const blocks = fencedBlocks(page, 'sql').filter((b) => b.includes('gatehouse_runtime'));
    assert.equal(blocks.length, 1, 'one SQL block sets up the runtime role');
    const expected = runtimeRoleSql('gatehouse', { password: '…' }).map((statement) => `${statement};`).join('\n');
    assert.equal(blocks[0]!.trimEnd(), expected);
  });

  it('the docker-compose comment on audit-db-init names each table with its privileges', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const comment = /# One-shot, as the audit database's owner[\s\S]*?(?=\n {2}audit-db-init:)/.exec(compose)?.[0];
    assert.ok(comment, 'the comment above audit-db-init');
    const text = comment.replace(/\n\s*#\s*/g, ' ');
    for (const [table, privileges] of Object.entries(RUNTIME_GRANTS)) {
      // A column grant (`UPDATE (mode, …)`) reads `UPDATE of the summary columns (mode, …)`.
      const named = privileges.map((p) => escapeRegExp(p).replace(/^(\w+) \\\(/, '$1 of [^(:]*\\(')).join(', ');
      const listed = new RegExp(`\\b${table}\\b[^:]*: ${named}(?![,\\w])`);
      assert.match(text, listed, `\`${table}\`: ${privileges.join(', ')}`);
    }
  });
});
