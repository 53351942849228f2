/**
 * Loads the keyset file the worker, the approvals service and `audit verify` trust
 * (`GATEHOUSE_KEYS`): JSON or YAML, validated by the keyset's zod schema, every problem reported
 * with its path. A production deployment refuses a development keyset. Node-only.
 *
 * A file is held to more than the schema: a `notAfter` must be an ISO time with its offset (`Z`,
 * `+02:00`), not one read in the loading machine's time zone. The schema itself keeps accepting
 * what `Date.parse` reads, because sessions snapshot keysets into their histories: what a history
 * once held must stay valid wherever a keyset is read again.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { formatPath } from '../../policies/parse';
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
  const issues = parsed.success ? unzonedTimes(parsed.data) : parsed.issues;
  if (!parsed.success || issues.length > 0) {
    const first = issues[0]!;
    throw new KeysetFileError(`invalid keyset \`${path}\`: ${first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, path, issues);
  }
  if (options.production && parsed.data.development) {
    throw new KeysetFileError(`keyset \`${path}\` holds development keys, which a production deployment refuses: register real keys (\`gatehouse keys create\`)`, path);
  }
  return parsed.data;
}

/** An ISO date and time with its offset: `2026-06-01T00:00:00Z`, `2026-06-01T02:00:00+02:00`. */
const zonedTime = z.string().datetime({ offset: true });

/** Every `notAfter` of the file that is not an ISO time with an offset, as issues with their paths. */
function unzonedTimes(keyset: Keyset): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  keyset.keys.forEach((k, i) => {
    if (k.notAfter === undefined || zonedTime.safeParse(k.notAfter).success) return;
    const shown = JSON.stringify(k.notAfter.slice(0, 60)).slice(1, -1);
    out.push({ path: formatPath(['keys', i, 'notAfter']), message: `expected an ISO time with its offset (\`2026-06-01T00:00:00Z\`, \`+02:00\`), got \`${shown}\`` });
  });
  return out;
}
