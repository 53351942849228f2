/**
 * Checks a `gatehouse …` command line quoted in the docs against the CLI's own commander tree:
 * every subcommand it names exists, and every `--option` belongs to the command it is given to
 * (or to a command above it). Placeholders (`<id>`), optional brackets and `a|b` alternatives
 * are read the way a synopsis means them.
 */
import type { Command } from 'commander';
import { buildProgram } from '../../cli/program';

let program: Command | undefined;

/** Every long option a command accepts, its own and its parents'. */
function longOptions(command: Command): Set<string> {
  const out = new Set<string>(['--help']);
  for (let c: Command | null = command; c; c = c.parent) {
    for (const option of c.options) if (option.long) out.add(option.long);
    // commander's negatable `--no-x` is listed as `--no-x`; a `--x` of it is accepted too.
  }
  return out;
}

const findCommand = (parent: Command, word: string): Command | undefined =>
  parent.commands.find((c) => c.name() === word || c.aliases().includes(word));

/** One command line: from `gatehouse` up to the next `&&`, `;`, pipe, redirect or comment. */
function commandLines(snippet: string): string[] {
  const out: string[] = [];
  // A `<placeholder>` may hold spaces, and its `>` is no redirect.
  const plain = snippet.replace(/<[^<>]*>/g, 'PLACEHOLDER');
  for (const m of plain.matchAll(/(?:^\s*|[;&|$]\s*)(?:npx\s+)?gatehouse\s+([^;&#>]*)/g)) {
    // Two spaces or more end the command: a listing's second column, or a comment after it.
    const rest = m[1]!.split(/\s\|\s/)[0]!.trim().split(/\s{2,}/)[0]!;
    // A log line's `gatehouse test:`, or a demo's printed `gatehouse  < …` (the gate's answer).
    if (/^[a-z][\w-]*:/.test(rest) || /^[<>]/.test(rest)) continue;
    out.push(rest);
  }
  return out;
}

/** What a quoted command line names that the CLI lacks, one sentence each (empty when all exist). */
export function unknownCommandParts(snippet: string): string[] {
  program ??= buildProgram();
  const problems: string[] = [];
  for (const line of commandLines(snippet)) {
    const tokens = line.replace(/[[\]{}()…]/g, ' ').split(/\s+/).filter((t) => t !== '' && t !== '...');
    let command: Command = program;
    let path = 'gatehouse';
    for (const token of tokens) {
      if (token.startsWith('-')) {
        if (!token.startsWith('--')) continue; // short flags: commander checks them; docs rarely quote them
        const long = token.split('=')[0]!;
        if (!longOptions(command).has(long)) problems.push(`\`${path}\` has no option \`${long}\``);
        continue;
      }
      if (command.commands.length === 0 || !/^[a-z][\w|-]*$/.test(token)) continue; // an argument or placeholder
      const alternatives = token.split('|');
      const found = alternatives.map((word) => findCommand(command, word));
      const missing = alternatives.filter((_, i) => found[i] === undefined);
      // A word that is no subcommand is an argument when the command takes arguments itself.
      if (missing.length > 0 && command.registeredArguments.length === 0) {
        for (const word of missing) problems.push(`\`${path}\` has no subcommand \`${word}\``);
        break;
      }
      if (missing.length > 0) continue;
      command = found[0]!;
      path = `${path} ${alternatives[0]}`;
    }
  }
  return problems;
}
