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
