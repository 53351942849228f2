/**
 * Versions an intent names against the versions a call sets (issue 27, session 13). Pure.
 *
 * A version is no resource of its own (`identifiersOf` leaves `4.2.0` out), but "deprecate
 * @nw/ui-kit 4.2.0" is not done by deprecating 4.2.1, nor "promote billing-sdk 7.3.0" by promoting
 * 7.3.0-rc2. When the intent names versions, a call's version arguments (keys named for a version,
 * tag or release) must carry one of them, or one that only adds parts (`14.5.0` for `14.5`).
 */

const VERSION = /^v?(\d+(?:\.\d+){1,2}(?:-[0-9a-z.]+)?)$/;
const VERSION_KEY = /version|tag|release/i;

/** The versions a text names (`4.2.0`, `v2.18.3`, `7.3.0-rc2`; not an address of four parts), without a leading `v`. */
export function versionsIn(text: string): string[] {
  const out = new Set<string>();
  for (const raw of text.toLowerCase().split(/[\s,;()"'`[\]{}<>=|@]+/)) {
    const m = VERSION.exec(raw.replace(/[.:!?]+$/, ''));
    if (m) out.add(m[1]!);
  }
  return [...out];
}

/** The first version a call's version arguments set that is none of the intent's (nor one of them with parts added); null when all are, or the intent names none. */
export function wrongVersion(intentVersions: readonly string[], args: unknown, depth = 0, key = ''): string | null {
  if (intentVersions.length === 0 || depth > 4 || args === null || args === undefined) return null;
  if (typeof args === 'string' || typeof args === 'number') {
    if (!VERSION_KEY.test(key)) return null;
    const m = VERSION.exec(String(args).toLowerCase().trim());
    if (!m) return null;
    const v = m[1]!;
    return intentVersions.some((i) => v === i || v.startsWith(`${i}.`)) ? null : v;
  }
  const entries: [string, unknown][] = Array.isArray(args) ? args.map((v) => [key, v]) : typeof args === 'object' ? Object.entries(args as Record<string, unknown>) : [];
  for (const [k, v] of entries) {
    const wrong = wrongVersion(intentVersions, v, depth + 1, k);
    if (wrong !== null) return wrong;
  }
  return null;
}
