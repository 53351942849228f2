/** Where a command writes: injected, so tests run commands in-process and read what they said. */
export interface CommandIo {
  /** One line of the command's output (stdout). */
  out(text: string): void;
  /** One line of warnings or problems (stderr). */
  err(text: string): void;
}

export const processIo: CommandIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};
