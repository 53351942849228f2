/**
 * The demo scenarios and the runner behind `gatehouse demo <name>`: connect to the running stack,
 * run the scripted agent, then print the `gatehouse trace` of every session it started.
 */
import { billingCleanup } from './billing-cleanup';
import { mcpFilesystem } from './mcp-filesystem';
import { openDemo } from './context';
import { resume } from './resume';
import { runaway } from './runaway';
import { subAgent } from './sub-agent';
import { sessionTraces, type SessionTrace } from './trace';
import type { DemoOptions, Scenario, ScenarioOutcome } from './types';
import { volumeCleanup } from './volume-cleanup';
import type { StoryStep } from './story';

export type { DemoOptions, Scenario, ScenarioOutcome } from './types';

/** Every scenario, in the order the README tells them. */
export const SCENARIOS: readonly Scenario[] = [billingCleanup, volumeCleanup, runaway, resume, subAgent, mcpFilesystem];

/** Thrown for a scenario name that does not exist. */
export class UnknownScenarioError extends Error {
  readonly type = 'UnknownScenarioError';
  constructor(readonly scenario: string) {
    super(`unknown scenario \`${scenario}\`: expected one of ${SCENARIOS.map((s) => `\`${s.name}\``).join(', ')}`);
  }
}

export function findScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new UnknownScenarioError(name);
  return s;
}

/** The `--json` document of one run. */
export interface DemoReport extends ScenarioOutcome {
  readonly scenario: string;
  readonly options: DemoOptions;
  readonly steps: readonly StoryStep[];
  readonly traces: readonly SessionTrace[];
}

/** Runs one scenario against the running stack; prints the story (or, with `json`, returns the report). */
export async function runDemo(name: string, options: DemoOptions, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<DemoReport> {
  const scenario = findScenario(name);
  const open = await openDemo(options, write);
  try {
    let outcome: ScenarioOutcome;
    try {
      outcome = await scenario.run(open.ctx);
    } catch (err) {
      // Nothing the demo started may stay behind waiting for a human: halt it (the kill switch).
      await Promise.allSettled(open.ctx.started.map((id) => open.ctx.gh.halt(id, { by: 'gatehouse demo', reason: `the ${scenario.name} demo failed` })));
      throw err;
    }
    const traces = await sessionTraces(open.ctx.auditPool, outcome.sessionIds);
    if (!options.json) {
      for (const t of traces) {
        open.ctx.story.raw(`\n== gatehouse trace ${t.sessionId}\n`);
        open.ctx.story.raw(t.text);
      }
    }
    return { scenario: scenario.name, options, ...outcome, steps: open.ctx.story.steps, traces };
  } finally {
    await open.close();
  }
}
