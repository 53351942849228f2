import { createInterface } from 'node:readline/promises';
import { shownText } from '../approvals/shown-text';

/** Where a command writes: injected, so tests run commands in-process and read what they said. */
export interface CommandIo {
  /** One line of the command's output (stdout). */
  out(text: string): void;
  /** One line of warnings or problems (stderr). */
  err(text: string): void;
}

/**
 * The terminal: what a command prints can carry text an agent wrote (a tool name, an intent, a
 * trail's arguments), so no control sequence, bidi override or invisible character reaches it raw;
 * each is printed as a `\uXXXX` escape (inside JSON, the same value).
 */
export const processIo: CommandIo = {
  out: (t) => process.stdout.write(`${shownText(t)}\n`),
  err: (t) => process.stderr.write(`${shownText(t)}\n`),
};

/** Asks the person at the terminal; resolves true only for `y`/`yes`. */
export type Confirm = (question: string) => Promise<boolean>;

/**
 * Asks on the terminal (stdin, the question on stderr, its agent-written parts escaped as every CLI
 * output): how a command that signs asks before it signs (`mcp authorize`, `approvals approve`).
 */
export const askAtTerminal: Confirm = async (question) => {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(shownText(question))).trim());
  } finally {
    rl.close();
  }
};
