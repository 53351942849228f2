/**
 * Keys from the command line:
 *
 *   gatehouse keys create --approver <name> | --operator <name> | --service <name> [--dir <folder>] [--json]
 *   gatehouse keys list [--json]
 *
 * `create` makes an Ed25519 key pair, writes the private key (mode 0600) into the user's key
 * folder (`$XDG_CONFIG_HOME/gatehouse/keys`) or `--dir`, never over an existing file, and prints
 * the keyset entry an operator registers. `list` shows the keys of the keyset the worker trusts
 * (`GATEHOUSE_KEYS`, else the running development stack's).
 */
import type { Command } from 'commander';
import type { KeyRole } from '../../policies/trust';
import { loadKeysetFile } from '../../client/trust/keyset-file';
import { generateSigningKey, keyEntryOf, keyFileName, userKeyDir, writeKeyFile } from '../../client/trust/key-files';
import { CommandError } from '../command-error';
import { keysetPath } from '../operator-keys';

/** Bad options of a `keys` command. */
export class KeysUsageError extends CommandError {
  constructor(message: string) {
    super('KeysUsageError', message);
  }
}

interface CreateOptions {
  readonly approver?: string;
  readonly operator?: string;
  readonly service?: string;
  readonly dir?: string;
  readonly json?: boolean;
}

function principalAndRole(o: CreateOptions): { principal: string; role: KeyRole } {
  const given = [
    ...(o.approver !== undefined ? [{ principal: o.approver, role: 'approver' as const }] : []),
    ...(o.operator !== undefined ? [{ principal: o.operator, role: 'operator' as const }] : []),
    ...(o.service !== undefined ? [{ principal: o.service, role: 'approvals-service' as const }] : []),
  ];
  if (given.length !== 1) throw new KeysUsageError('choose exactly one of `--approver <name>`, `--operator <name>` or `--service <name>`');
  const one = given[0]!;
  // Throws a clear error for a name that cannot be a file name (and so cannot be a principal).
  try {
    keyFileName(one.principal, one.role);
  } catch (err) {
    throw new KeysUsageError(err instanceof Error ? err.message : String(err));
  }
  return one;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('ed25519 keys of approvers, operators and the approvals service');

  keys
    .command('create')
    .description('make a key pair: the private key stays in your key folder (mode 0600); prints the public key entry to register in the keyset')
    .option('--approver <name>', 'a key for an approver, named as the policy\'s groups list them')
    .option('--operator <name>', 'a key for an operator (agent credentials, resume, budget raises)')
    .option('--service <name>', 'a key for the slack approvals service')
    .option('--dir <folder>', `where the private key file goes (default: ${userKeyDir()})`)
    .option('--json', 'print `{ path, entry }` as JSON')
    .action((o: CreateOptions) => {
      const { principal, role } = principalAndRole(o);
      const key = generateSigningKey(principal, role);
      const path = writeKeyFile(o.dir ?? userKeyDir(), key);
      const entry = keyEntryOf(key);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ path, entry })}\n`);
        return;
      }
      process.stdout.write(`made a ${role} key for \`${principal}\`: ${entry.keyId}\n`);
      process.stdout.write(`private key: ${path} (mode 0600; keep it there, never in a repository)\n`);
      process.stdout.write('register this entry in the keyset file the worker loads (`GATEHOUSE_KEYS`, its `keys` list):\n');
      process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
    });

  keys
    .command('list')
    .description('the keys of the keyset the worker trusts (GATEHOUSE_KEYS, else the running stack\'s)')
    .option('--json', 'print the keys as JSON')
    .action((o: { json?: boolean }) => {
      const path = keysetPath();
      const keyset = loadKeysetFile(path);
      const rows = keyset.keys.map((k) => ({ keyId: k.keyId, principal: k.principal, role: k.role, notAfter: k.notAfter ?? null, revoked: k.revoked }));
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ keysetFile: path, development: keyset.development, keys: rows })}\n`);
        return;
      }
      process.stdout.write(`keyset ${path}${keyset.development ? ' (development keys: refused in production)' : ''}\n`);
      const header = ['key id', 'principal', 'role', 'not after', 'revoked'];
      const table = [header, ...rows.map((r) => [r.keyId, r.principal, r.role, r.notAfter ?? '-', r.revoked ? 'revoked' : '-'])];
      const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });
}
