/**
 * The error a command throws when its input (an option, a file) is bad or what it needs cannot be
 * reached: `gatehouse` prints the message on one line and exits 1. Each command family has its own
 * subclass, whose name is its `type`.
 */
export class CommandError extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
    this.name = type;
  }
}
