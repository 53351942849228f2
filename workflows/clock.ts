/**
 * Workflow time. Inside the sandbox `Date.now()` is the deterministic time of the workflow task,
 * so every replay reads the same values.
 */
export function nowMs(): number {
  return Date.now();
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
