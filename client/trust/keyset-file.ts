/**
 * Loads the keyset file the worker, the approvals service and `audit verify` trust
 * (`GATEHOUSE_KEYS`): JSON or YAML, validated by the keyset's zod schema, every problem reported
 * with its path. A production deployment refuses a development keyset. Node-only.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { parseKeyset, type Keyset } from '../../policies/trust';

/** Thrown when the keyset file is missing, unreadable or invalid. Nothing is loaded then. */
export class KeysetFileError extends Error {
  readonly type = 'KeysetFileError';
  constructor(message: string, readonly path: string, readonly issues: readonly { path: string; message: string }[] = []) {
    super(message);
    this.name = 'KeysetFileError';
  }
}

export interface LoadKeysetOptions {
  /** Refuse a keyset marked `development: true` (set in production). @default false */
  readonly production?: boolean;
}

export function loadKeysetFile(path: string, options: LoadKeysetOptions = {}): Keyset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeysetFileError(`cannot read keyset file \`${path}\`: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, path);
  }
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (err) {
    throw new KeysetFileError(`keyset file \`${path}\` is neither JSON nor YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, path);
  }
  const parsed = parseKeyset(data);
  if (!parsed.success) {
    const first = parsed.issues[0]!;
    throw new KeysetFileError(`invalid keyset \`${path}\`: ${first.path}: ${first.message}${parsed.issues.length > 1 ? ` (and ${parsed.issues.length - 1} more)` : ''}`, path, parsed.issues);
  }
  if (options.production && parsed.data.development) {
    throw new KeysetFileError(`keyset \`${path}\` holds development keys, which a production deployment refuses: register real keys (\`gatehouse keys create\`)`, path);
  }
  return parsed.data;
}
