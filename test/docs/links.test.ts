/**
 * The README and docs/ stay true to the repository: every relative link resolves to a file that
 * exists (and every `#anchor` to a heading of that page), every `gatehouse <command>` they quote is
 * a command the CLI has (its subcommands and options too), and every `npm run <script>` a script of
 * package.json.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT, runCli } from '../e2e/processes';
import { FENCE, pages } from './pages';
import { unknownCommandParts } from './quoted-commands';


/** GitHub's anchors of a page's headings (duplicates numbered `-1`, `-2`, …). */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (FENCE.test(line)) fenced = !fenced;
    const m = !fenced && /^#+\s+(.*)$/.exec(line);
    if (!m) continue;
    const slug = m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Links `[label](target)` outside code, with their line numbers. */
function links(text: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (FENCE.test(line)) fenced = !fenced;
    if (fenced) return;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) out.push({ target: m[1]!, line: i + 1 });
  });
  return out;
}

/** Code a reader copies: fenced blocks and inline code spans. */
function code(text: string): { snippet: string; line: number }[] {
  const out: { snippet: string; line: number }[] = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (FENCE.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) out.push({ snippet: line, line: i + 1 });
    else for (const m of line.matchAll(/`([^`]+)`/g)) out.push({ snippet: m[1]!, line: i + 1 });
  });
  return out;
}

describe('the README and docs/', () => {
  const all = pages();
  let commands: Set<string>;
  const scripts = new Set(Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts));

  before(async () => {
    const help = await runCli(['--help'], { ...process.env }, 60_000);
    assert.equal(help.code, 0, help.stderr);
    commands = new Set([...help.stdout.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!));
    assert.ok(commands.has('start') && commands.has('demo'), `no commands found in \`gatehouse --help\`:\n${help.stdout}`);
  });

  it('has a docs/ page for every kind of reader, linked from the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const page of ['docs/quickstart.md', 'docs/concepts/trust-boundary.md', 'docs/reference/policy.md', 'docs/tutorials/your-own-tools.md', 'docs/internals/testing.md']) {
      assert.ok(readme.includes(`](${page})`), `the README links ${page}`);
    }
    assert.ok(readme.split('\n').length <= 200, 'the README is a front page (at most 200 lines)');
  });

  it('every relative link resolves to a file, and every anchor to a heading', () => {
    const broken: string[] = [];
    for (const page of all) {
      const text = readFileSync(page, 'utf8');
      for (const { target, line } of links(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? page : resolve(dirname(page), decodeURIComponent(path));
        const where = `${relative(ROOT, page)}:${line} → ${target}`;
        if (!existsSync(file)) {
          broken.push(`${where}: no such file`);
          continue;
        }
        if (anchor && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor)) broken.push(`${where}: no heading with that anchor`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('every `gatehouse <command>` quoted is a command of the CLI, and every `npm run <script>` a script', () => {
    const unknown: string[] = [];
    for (const page of all) {
      for (const { snippet, line } of code(readFileSync(page, 'utf8'))) {
        // A command line: at the start of the snippet or after `&&`, `;`, `|`, `$`; not a log line's `gatehouse test:`.
        for (const m of snippet.matchAll(/(?:^\s*|[;&|$]\s*)(?:npx\s+)?gatehouse\s+([a-z][\w-]*)(?![\w-]*:)/g)) {
          if (!commands.has(m[1]!)) unknown.push(`${relative(ROOT, page)}:${line}: gatehouse ${m[1]}`);
        }
        for (const m of snippet.matchAll(/npm run(?:\s+--silent)?\s+([\w:.*-]+)/g)) {
          const name = m[1]!;
          const known = name.endsWith('*') ? [...scripts].some((s) => s.startsWith(name.slice(0, -1))) : scripts.has(name);
          if (!known) unknown.push(`${relative(ROOT, page)}:${line}: npm run ${name}`);
        }
      }
    }
    assert.deepEqual(unknown, []);
  });

  it('every subcommand and option a quoted `gatehouse` command line names exists', () => {
    const unknown: string[] = [];
    for (const page of all) {
      for (const { snippet, line } of code(readFileSync(page, 'utf8'))) {
        for (const problem of unknownCommandParts(snippet)) unknown.push(`${relative(ROOT, page)}:${line}: ${problem}`);
      }
    }
    assert.deepEqual(unknown, []);
  });
});
