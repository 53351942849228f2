/**
 * The conformance table: one row per scenario of `@modelcontextprotocol/conformance` (server and
 * client), the reference's outcome beside Gatehouse's, and why a row fails on both — most need the
 * suite's own test fixtures (a tool, resource or prompt of its test server), named here as the
 * suite's source (0.1.16) names them.
 */

/** `not run`: the scenario does not apply to Gatehouse's clients (the reason is in the note). */
export type Outcome = 'pass' | 'fail' | 'not run';

export interface Result {
  readonly outcome: Outcome;
  /** The first failed check's message, or why it was not run. */
  readonly message?: string;
  /** Checks that warned (a pass with warnings is still a pass). */
  readonly warnings?: number;
  /** How long the scenario took, in ms. */
  readonly ms?: number;
}

/** Scenario → result. */
export type Results = Map<string, Result>;

/** What the suite's server scenarios call on the server under test: only its own test server has them. */
export const SUITE_FIXTURES: Readonly<Record<string, string>> = {
  'completion-complete': 'prompt `test_prompt_with_arguments`',
  'tools-call-simple-text': 'tool `test_simple_text`',
  'tools-call-image': 'tool `test_image_content`',
  'tools-call-audio': 'tool `test_audio_content`',
  'tools-call-embedded-resource': 'tool `test_embedded_resource`',
  'tools-call-mixed-content': 'tool `test_multiple_content_types`',
  'tools-call-with-logging': 'tool `test_tool_with_logging`',
  'tools-call-error': 'tool `test_error_handling`',
  'tools-call-with-progress': 'tool `test_tool_with_progress`',
  'tools-call-sampling': 'tool `test_sampling`',
  'tools-call-elicitation': 'tool `test_elicitation`',
  'json-schema-2020-12': 'tool `json_schema_2020_12_tool`',
  'elicitation-sep1034-defaults': 'tool `test_elicitation_sep1034_defaults`',
  'elicitation-sep1330-enums': 'tool `test_elicitation_sep1330_enums`',
  'server-sse-polling': 'tool `test_reconnection`',
  'resources-read-text': 'resource `test://static-text`',
  'resources-read-binary': 'resource `test://static-binary`',
  'resources-templates-read': 'resource template `test://template/{id}/data`',
  'resources-subscribe': 'resource `test://watched-resource`',
  'resources-unsubscribe': 'resource `test://watched-resource`',
  'prompts-get-simple': 'prompt `test_simple_prompt`',
  'prompts-get-with-args': 'prompt `test_prompt_with_arguments`',
  'prompts-get-embedded-resource': 'prompt `test_prompt_with_embedded_resource`',
  'prompts-get-with-image': 'prompt `test_prompt_with_image`',
};

/** One row: the reference's outcome, Gatehouse's, and whether Gatehouse regressed. */
export interface Row {
  readonly kind: 'server' | 'client';
  readonly scenario: string;
  readonly reference: Result;
  readonly gatehouse: Result;
  /** The reference passes and Gatehouse does not: what CI fails on. */
  readonly regression: boolean;
}

const MISSING: Result = { outcome: 'fail', message: 'no result' };

export function compare(kind: Row['kind'], reference: Results, gatehouse: Results): Row[] {
  const names = [...new Set([...reference.keys(), ...gatehouse.keys()])].sort();
  return names.map((scenario) => {
    const r = reference.get(scenario) ?? MISSING;
    const g = gatehouse.get(scenario) ?? MISSING;
    return { kind, scenario, reference: r, gatehouse: g, regression: r.outcome === 'pass' && g.outcome !== 'pass' };
  });
}

function note(r: Row): string {
  if (r.regression) return `REGRESSION: ${r.gatehouse.message ?? ''}`;
  if (r.gatehouse.outcome === 'not run') return r.gatehouse.message ?? '';
  if (r.gatehouse.outcome === 'fail' && r.reference.outcome === 'fail') {
    const fixture = r.kind === 'server' ? SUITE_FIXTURES[r.scenario] : undefined;
    return `both fail: ${fixture ? `needs the suite's ${fixture} (${(r.gatehouse.message ?? '').slice(0, 80)})` : (r.gatehouse.message ?? '').slice(0, 140)}`;
  }
  if (r.gatehouse.outcome === 'pass' && r.reference.outcome === 'fail') return `the reference fails: ${(r.reference.message ?? '').slice(0, 120)}`;
  return r.gatehouse.warnings ? `${r.gatehouse.warnings} warning(s)` : '';
}

function slowest(rows: readonly Row[]): string {
  const timed = rows.filter((r) => r.gatehouse.ms !== undefined).sort((a, b) => b.gatehouse.ms! - a.gatehouse.ms!);
  return timed.slice(0, 3).map((r) => `${r.scenario} ${(r.gatehouse.ms! / 1000).toFixed(1)} s`).join(', ') || 'none run';
}

/** The printed table (every scenario, none hidden) and a summary line per kind. */
export function table(rows: readonly Row[], labels: { server: string; client: string }): string {
  const w = Math.max(...rows.map((r) => r.scenario.length), 'scenario'.length);
  const lines: string[] = [];
  for (const kind of ['server', 'client'] as const) {
    const these = rows.filter((r) => r.kind === kind);
    if (these.length === 0) continue;
    lines.push(`${kind} scenarios — ${labels[kind]}`, `${'scenario'.padEnd(w)}  reference  gatehouse  note`);
    for (const r of these) lines.push(`${r.scenario.padEnd(w)}  ${r.reference.outcome.padEnd(9)}  ${r.gatehouse.outcome.padEnd(9)}  ${note(r)}`.trimEnd());
    const count = (o: Outcome, side: 'reference' | 'gatehouse') => these.filter((r) => r[side].outcome === o).length;
    lines.push(
      `${kind}: slowest through gatehouse: ${slowest(these)}`,
      `${kind}: gatehouse passes ${count('pass', 'gatehouse')} of ${these.length}, the reference ${count('pass', 'reference')}; not run ${count('not run', 'gatehouse')}; regressions: ${these.filter((r) => r.regression).length}`,
      '',
    );
  }
  return lines.join('\n').trimEnd();
}
