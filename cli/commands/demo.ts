import type { Command } from 'commander';

/** Registers this command family (owned by its issue; filled in there). */
export function registerDemo(_program: Command): void {}
