/**
 * `gatehouse start` (what `npm start` runs): the whole stack on embedded defaults — Temporal dev
 * server, PostgreSQL, migrations, the worker, the gateway (HTTP API and MCP on 127.0.0.1), and the
 * Slack approvals app when credentials are set — in one process tree. Prints what runs where; the first Ctrl-C (SIGINT) or SIGTERM stops
 * everything in reverse order, also during start-up; a second one kills what is left at once.
 *
 * `--temporal server` runs the full Temporal server (`temporal-server`, built once with Go) on the
 * embedded PostgreSQL instead of the CLI's dev server; its Web UI (Temporal's UI server, built once
 * with Go) is served by the console under `/temporal/` to signed-in operators, read only.
 *
 * Keys: without `GATEHOUSE_KEYS` it makes development keys once under `.data/keys/` and registers
 * the demo's named policies (`demo/policy.ts`); `GATEHOUSE_POLICIES` adds named policies of your own.
 */
import type { Command } from 'commander';
import { Runtime } from '@temporalio/worker';
import { shownText } from '../../approvals/shown-text';
import { runtimeTelemetryOptions, startTelemetryFromEnv } from '../../telemetry/env';
import { escapedRuntimeLogging } from '../../worker/escaped-logger';
import { startStack, StackAbortedError, type RunningStack } from '../../worker/devstack/stack';
import { TEMPORAL_KINDS, type TemporalKind } from '../../worker/devstack/stack-temporal';
import { demoPolicies } from '../../demo/policy';

function isTemporalKind(value: string): value is TemporalKind {
  return (TEMPORAL_KINDS as readonly string[]).includes(value);
}

interface StartOptions {
  readonly policy?: string;
  readonly config?: string;
  readonly catalog?: string;
  readonly uiPort?: string;
  readonly temporal: string;
  readonly worker: boolean;
}

/** Registers `gatehouse start`. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the whole stack on embedded defaults: temporal, postgres, the worker, the gateway (and slack approvals when configured)')
    .option('--policy <file>', 'policy document the worker enforces (default: policies/examples/production.yaml)')
    .option('--config <file>', 'gatehouse configuration whose `mcp.upstreams` the worker gates (default: GATEHOUSE_CONFIG)')
    .option('--catalog <module>', 'a module exporting `createCatalog({ productionPool })`: your tools instead of the sample ones (default: GATEHOUSE_CATALOG)')
    .option('--ui-port <port>', 'preferred port of the temporal web ui (default: 8233, another free port when taken)')
    .option('--temporal <kind>', 'embedded temporal: `dev` (the cli dev server, with its web ui) or `server` (the full temporal server on the embedded postgres, mutual tls; its web ui served by the console under /temporal/ to operators)', 'dev')
    .option('--no-worker', 'start the servers and migrations only')
    .action(async (opts: StartOptions) => {
      process.exit(await runStart(opts));
    });
}

async function runStart(opts: StartOptions): Promise<number> {
  // The stack's log carries others' text (an upstream server's stderr, an error it answered): its controls are escaped.
  const say = (line: string) => process.stderr.write(`${shownText(line)}\n`);
  const uiPort = opts.uiPort === undefined ? undefined : Number(opts.uiPort);
  if (uiPort !== undefined && (!Number.isInteger(uiPort) || uiPort <= 0 || uiPort > 65535)) {
    say(`gatehouse: --ui-port must be a port number, got \`${opts.uiPort}\``);
    return 2;
  }

  if (!isTemporalKind(opts.temporal)) {
    say(`gatehouse: --temporal must be one of ${TEMPORAL_KINDS.join(', ')}, got \`${opts.temporal}\``);
    return 2;
  }
  const temporal = opts.temporal;

  // The SDK would shut workers down on SIGINT by itself; the stack does it, in order, instead.
  // OTEL_EXPORTER_OTLP_ENDPOINT set: the stack's gateway, client and worker trace, and core exports the worker metrics.
  const telemetry = await startTelemetryFromEnv('stack');
  const coreTelemetry = runtimeTelemetryOptions();
  Runtime.install({ ...escapedRuntimeLogging('WARN', coreTelemetry), shutdownSignals: [] });

  const abort = new AbortController();
  let stack: RunningStack | undefined;
  let signals = 0;
  let wake: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      // Second signal: no more waiting. The process-group exit hook SIGKILLs the servers.
      say(`gatehouse: ${signal} again: killing what is left`);
      process.exit(130);
    }
    say(`gatehouse: ${signal}: stopping (again to force)`);
    abort.abort();
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    // A development stack (no keyset of its own) also loads the demo's policies for `gatehouse demo`.
    const policies = process.env.GATEHOUSE_KEYS ? undefined : await demoPolicies();
    stack = await startStack({ policyFile: opts.policy, ...(opts.config ? { configFile: opts.config } : {}), ...(opts.catalog ? { catalogModule: opts.catalog } : {}), uiPort, temporal, worker: opts.worker, log: say, signal: abort.signal, ...(policies ? { policies } : {}) });
  } catch (err) {
    if (err instanceof StackAbortedError) {
      say(`gatehouse: ${err.message}`);
      return 130;
    }
    say(`gatehouse: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }

  const width = Math.max(...stack.parts.map((p) => p.name.length));
  process.stdout.write(`gatehouse is running (pid ${process.pid}); Ctrl-C stops everything\n`);
  for (const part of stack.parts) process.stdout.write(`  ${part.name.padEnd(width)}  ${part.where}\n`);

  let code = 0;
  const workerFailed = stack.workerDone?.then(
    () => {
      if (!abort.signal.aborted) say('gatehouse: the worker stopped on its own: stopping everything');
      code = abort.signal.aborted ? 0 : 1;
    },
    (err: unknown) => {
      say(`gatehouse: the worker failed: ${err instanceof Error ? err.message : String(err)}: stopping everything`);
      code = 1;
    },
  );
  await Promise.race([stopRequested, ...(workerFailed ? [workerFailed] : [])]);
  await stack.stop();
  await telemetry?.shutdown();
  say('gatehouse: stopped');
  return code;
}
