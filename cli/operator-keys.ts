/**
 * Where the CLI finds keys: private key files in the user's key folder (`userKeyDir()`) and then
 * in a running development stack's `.data/keys`; the keyset in `GATEHOUSE_KEYS` or the running
 * stack's keyset file. Used by `keys`, `agents`, `resume` and `budget raise`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type StackFile } from '../client/config';
import { findKeyFile, readKeyFile, userKeyDir, type SigningKey } from '../client/trust/key-files';
import { CommandError } from './command-error';
import { keyDirsOf, keysetFileOf } from './commands/trust-files';

/** An operator key or keyset the command needs cannot be found. */
export class OperatorKeyError extends CommandError {
  constructor(message: string) {
    super('OperatorKeyError', message);
  }
}

/** The running stack's file, if any (the environment may point elsewhere). */
export function runningStack(env: NodeJS.ProcessEnv = process.env): StackFile | undefined {
  return loadConfig(env).stack;
}

/** Folders searched for private key files, in order: the user's, then the development stack's. */
export function keyDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return keyDirsOf(loadConfig(env), env);
}

/** The keyset file: `GATEHOUSE_KEYS`, else the running stack's. */
export function keysetPath(env: NodeJS.ProcessEnv = process.env): string {
  const path = keysetFileOf(loadConfig(env), undefined, env);
  if (!path) throw new OperatorKeyError('no keyset: set `GATEHOUSE_KEYS` to the keyset file, or start the development stack with `npm start`');
  return path;
}

/**
 * The operator key to sign with: `--as <name>` in the key folders; without it the only operator
 * key in the user's folder, else the development stack's operator key.
 */
export function operatorKey(as: string | undefined, env: NodeJS.ProcessEnv = process.env): SigningKey {
  const dirs = keyDirs(env);
  if (as !== undefined) return findKeyFile(as, 'operator', dirs);
  const own = operatorKeyFiles(userKeyDir(env));
  if (own.length === 1) return readKeyFile(own[0]!);
  if (own.length > 1) {
    const names = own.map((f) => `\`${f.slice(f.lastIndexOf('/') + 1).replace(/\.operator\.key$/, '')}\``).join(', ');
    throw new OperatorKeyError(`several operator keys in \`${userKeyDir(env)}\` (${names}): choose one with \`--as <operator>\``);
  }
  const dev = runningStack(env)?.keys?.developmentOperatorKey;
  if (dev) return readKeyFile(dev);
  throw new OperatorKeyError(
    `no operator key: looked in ${dirs.map((d) => `\`${d}\``).join(', ')}; make one with \`gatehouse keys create --operator <name>\` and register it in the keyset, or start the development stack with \`npm start\``,
  );
}

function operatorKeyFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.operator.key'))
    .sort()
    .map((f) => join(dir, f));
}
