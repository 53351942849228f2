/**
 * Durations on the command line: `14d`, `12h`, `30m` (also `45s`, `2w`).
 */
import { AuditUsageError } from './errors';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a duration like `14d`; `AuditUsageError` when it is malformed. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  const amount = m ? Number(m[1]) : NaN;
  if (!m || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new AuditUsageError(`malformed duration \`${text}\`: expected a positive whole number and a unit, such as \`14d\`, \`12h\` or \`30m\``);
  }
  return amount * UNIT_MS[m[2]!]!;
}
