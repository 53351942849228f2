/**
 * The synopsis at the top of docs/reference/cli.md says which options a command requires the way
 * the CLI does: a required option is never shown in `[brackets]`, and an optional one never
 * without them (except in a `--a | --b` choice, where the choice itself is what is required).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/program';
import { ROOT } from '../e2e/processes';

const subcommand = (parent: Command, word: string) => parent.commands.find((c) => c.name() === word);

/** Each command of the synopsis with the text after its name (`a | b` alternatives split; a bare `deny` is its sibling's). */
function synopsisCommands(program: Command): { command: Command; rest: string; line: string }[] {
  const page = readFileSync(join(ROOT, 'docs', 'reference', 'cli.md'), 'utf8');
  const block = /^```\n([\s\S]*?)^```$/m.exec(page)?.[1] ?? '';
  const out: { command: Command; rest: string; line: string }[] = [];
  for (const line of block.split('\n')) {
    const synopsis = /^gatehouse (\S.*)$/.exec(line)?.[1]?.split(/\s{3,}/)[0];
    if (!synopsis) continue;
    let parent: Command = program;
    for (const alternative of synopsis.split(/ \| (?=[a-z])/)) {
      const words = alternative.split(' ');
      let at: Command = subcommand(program, words[0]!) ? program : parent;
      let i = 0;
      for (let next = subcommand(at, words[0]!); next; next = subcommand(at, words[i]!)) {
        parent = at;
        at = next;
        i++;
      }
      if (at !== program) out.push({ command: at, rest: words.slice(i).join(' '), line: alternative });
    }
  }
  return out;
}

describe('docs/reference/cli.md synopsis', () => {
  it('brackets exactly the optional options', () => {
    const commands = synopsisCommands(buildProgram());
    assert.ok(commands.length > 20, `the synopsis lists the commands (found ${commands.length})`);
    const problems: string[] = [];
    for (const { command, rest, line } of commands) {
      const bracketed = new Set([...rest.matchAll(/\[(--[\w-]+)/g)].map((m) => m[1]));
      const outside = rest.replace(/\[[^\]]*\]/g, '');
      const bare = new Set([...outside.matchAll(/--[\w-]+/g)].map((m) => m[0]));
      for (const option of command.options) {
        if (!option.long) continue;
        if (option.mandatory && bracketed.has(option.long)) problems.push(`\`${line}\`: ${option.long} is required, not optional`);
        if (!option.mandatory && bare.has(option.long) && !outside.includes('|')) problems.push(`\`${line}\`: ${option.long} is optional, shown as required`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
