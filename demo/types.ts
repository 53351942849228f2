/**
 * The shape of a demo scenario: a scripted agent that talks to Gatehouse only through the public
 * client (`client/`), narrated as a story, ending with the audit trail's trace of its sessions.
 */
import type { TemporalSecurity } from '../client/config';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Gatehouse } from '../client';
import type { Story } from './story';
import type { Approver } from './approver';

/** Options of `gatehouse demo <name>`. */
export interface DemoOptions {
  /** Play the approver approving instead of denying (the default is to deny). */
  readonly approve: boolean;
  /** Print one JSON document instead of the story. */
  readonly json: boolean;
}

/** What a scenario gets to work with. */
export interface DemoContext {
  readonly options: DemoOptions;
  /** The public client, connected to the stack a running `gatehouse start` wrote (or the env). */
  readonly gh: Gatehouse;
  readonly story: Story;
  /** Plays the human approver: signed votes with the development approver keys. */
  readonly approver: Approver;
  /** The audit trail's database (read-only use: counting what happened). */
  readonly auditPool: Pool;
  /** The sample production database (read-only use: counting rows before and after). */
  readonly productionPool: Pool;
  /** A plain Temporal client (the demo's own worker's readiness). */
  readonly temporal: Client;
  /** The resolved configuration the demo connected with. */
  readonly config: DemoConfig;
  /** A short random suffix, so session ids of two runs never collide. */
  readonly runId: string;
  /** Records a session the scenario started, so a failed run halts it instead of leaving it waiting. */
  track<T extends { readonly sessionId: string }>(session: T): T;
  /** Every session tracked so far. */
  readonly started: readonly string[];
}

/** The parts of `loadConfig()` the demo needs. */
export interface DemoConfig {
  readonly temporalAddress: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly databaseUrl: string;
  readonly productionDatabaseUrl: string;
  /** TLS / API key of a real deployment (`TEMPORAL_TLS_*`, `TEMPORAL_API_KEY`); empty for the embedded stack. */
  readonly security: TemporalSecurity;
  /** The keyset the stack's worker trusts (`GATEHOUSE_KEYS`, else the running stack's). */
  readonly keysetFile: string;
  /** Where the approver keys are: the development stack's key folder, then the user's. */
  readonly keyDirs: readonly string[];
  /** The operator key that issues the demo agents' credentials (the development stack's). */
  readonly operatorKeyFile?: string;
}

/** What a scenario reports when it finishes: its sessions and the facts it observed. */
export interface ScenarioOutcome {
  /** Every session the scenario started, in order (their traces are printed at the end). */
  readonly sessionIds: readonly string[];
  /** Observed facts (row counts, verdicts, modes...), for `--json` and the end-to-end test. */
  readonly facts: Readonly<Record<string, unknown>>;
}

export interface Scenario {
  readonly name: string;
  /** One line: what the scenario shows. */
  readonly summary: string;
  run(ctx: DemoContext): Promise<ScenarioOutcome>;
}
