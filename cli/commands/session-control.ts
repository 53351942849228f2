import type { Command } from 'commander';

/** Registers this command family (owned by its issue; filled in there). */
export function registerSessionControl(_program: Command): void {}
