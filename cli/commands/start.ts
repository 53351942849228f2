import type { Command } from 'commander';

/** Registers this command family (owned by its issue; filled in there). */
export function registerStart(_program: Command): void {}
