/**
 * Where the CLI finds the keyset and people's keys: an explicit file, else `GATEHOUSE_KEYS`, else
 * the running development stack's (`gatehouse start`); approver keys in the user's key folder,
 * then the stack's development key folder.
 */
import { userKeyDir } from '../../client/trust/key-files';
import type { GatehouseConfig } from '../../client/config';

/** The keyset file to trust, or undefined when none is configured anywhere. */
export function keysetFileOf(config: Pick<GatehouseConfig, 'stack'>, explicit?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return explicit || env.GATEHOUSE_KEYS || config.stack?.keys?.keysetFile || undefined;
}

/** Folders searched for a person's private key, in order. */
export function keyDirsOf(config: Pick<GatehouseConfig, 'stack'>, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [userKeyDir(env)];
  const dev = config.stack?.keys?.keyDir;
  if (dev && !dirs.includes(dev)) dirs.push(dev);
  return dirs;
}
