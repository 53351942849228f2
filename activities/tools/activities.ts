/**
 * The tool activities: `prepareCall` (a side-effect-free check and estimate, before the policy
 * decides) and `runTool` (write-ahead audit, then the handler at most once per idempotency key,
 * then the outcome event). One activity round trip per gated call: the workflow hands runTool the
 * `before` events (proposed/decided/approved) instead of appending them in activities of their own.
 *
 * Failure contract of runTool:
 * - a transient failure (ToolError with `retryable`, a lost database connection, an unknown
 *   handler exception) throws a retryable `ApplicationFailure` while attempts remain, so Temporal
 *   retries it per the tool's policy; on the tool's last attempt it is returned as `failed`. A thrown
 *   failure's message is one line of at most 1,024 characters (`failureMessage`): the worker logs every attempt's;
 * - a permanent failure (non-retryable ToolError, a type listed in `retry.nonRetryable`, invalid
 *   arguments, an unknown tool) is recorded and *returned* as `{ status: 'failed', error }` —
 *   the session goes on. runTool never throws for a tool's own failure once it is final.
 */
import { Context } from '@temporalio/activity';
import { checkout, type CheckedOutClient } from '../../audit/checkout';
import { scrub } from '../../audit/chain';
import type { z } from 'zod';
import { redactArgs, type ToolCatalog } from './catalog';
import type { AnyToolDefinition, EstimateContext, ToolContext } from './define';
import { classifyError, ToolArgumentsError, ToolError, ToolOutputError, UnknownToolError } from './errors';
import { failed, hideSecrets, isFinal, toFailure } from './tool-failures';
import { argsDigest, beginCall, ensureLedger, failCall, finishCall, recordEntry, type CallMeta, type LedgerEntry } from './ledger';
import { secretsAt } from './redact';
import { outcomeEvent, returned } from './outcome-event';
import type { AuditSink, PrepareCallInput, PrepareCallResult, RunToolInput, RunToolResult, ToolOutcome } from './run-tool-types';

export type { AuditSink, PrepareCallInput, PrepareCallResult, RunToolInput, RunToolResult, ToolFailureInfo, ToolOutcome } from './run-tool-types';
import { checkArgs } from './validate';
import { AgentSlots } from './agent-slots';
import { estimateWithUpstream } from './upstream-estimate';

/** How often runTool heartbeats while a handler runs (a third of the heartbeat timeout, capped). */
const HEARTBEAT_DEFAULT_MS = 2_000;

export function createToolActivities(deps: { readonly catalog: ToolCatalog; readonly audit: AuditSink }) {
  const { catalog, audit } = deps;
  const pool = catalog.database;
  // Half the pool per agent for upstream calls (built-in calls are short and not counted).
  const slots = new AgentSlots(Math.max(1, Math.floor((pool.options?.max ?? 10) / 2)));

  async function prepareCall(input: PrepareCallInput): Promise<PrepareCallResult> {
    const redactedArgs = redactArgs(catalog, input.tool, input.args);
    const def = catalog.get(input.tool);
    if (!def) return { valid: false, issues: [{ code: 'unknown_tool', path: 'tool', message: `unknown tool \`${input.tool}\`` }], redactedArgs };
    const checked = checkArgs(def, input.args);
    if (!checked.success) return { valid: false, issues: checked.issues, redactedArgs };
    if (input.measure === false) return { valid: true, redactedArgs };
    if (input.estimate && def.upstream) {
      const blastRadius = await estimateWithUpstream(catalog, def.upstream.server, input.estimate, activitySignal());
      return blastRadius === undefined ? { valid: true, redactedArgs } : { valid: true, redactedArgs, blastRadius };
    }
    if (!def.estimateBlastRadius) return { valid: true, redactedArgs };
    const blastRadius = await estimate(def, checked.data);
    return { valid: true, redactedArgs, blastRadius };
  }

  /** Runs the estimator in a READ ONLY transaction that is always rolled back: it cannot change anything. */
  async function estimate(def: AnyToolDefinition, args: unknown): Promise<number> {
    let checked: CheckedOutClient;
    try {
      checked = await checkout(pool);
    } catch (err) {
      throw toFailure(classifyError(err));
    }
    const { client } = checked;
    let broken: Error | undefined;
    try {
      await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${def.timeoutMs}`);
      const ctx: EstimateContext = { db: client, signal: activitySignal() };
      const n = await def.estimateBlastRadius!(args, ctx);
      if (!(Number.isInteger(n) && n >= 0)) throw new ToolError('EstimateError', `blast-radius estimate of \`${def.name}\` is not a count: ${String(n)}`);
      return n;
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw toFailure(hideSecrets(classifyError(err, def.retry.nonRetryable), secretsAt(args, def.sensitive)));
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      checked.release(isConnectionError(broken) ? broken : undefined);
    }
  }

  async function runTool(input: RunToolInput): Promise<RunToolResult> {
    const def = catalog.get(input.tool);
    const redactedArgs = redactArgs(catalog, input.tool, input.args);
    // Checked once, before anything is written: with `checkFirst` a refused call writes nothing
    // (the workflow records it as denied); without it, it is recorded as a failed call.
    const checked = def ? checkArgs(def, input.args) : undefined;
    if (input.checkFirst) {
      if (!checked) return { status: 'invalid', issues: [{ code: 'unknown_tool', path: 'tool', message: `unknown tool \`${input.tool}\`` }], redactedArgs, latencyMs: 0 };
      if (!checked.success) return { status: 'invalid', issues: checked.issues, redactedArgs, latencyMs: 0 };
    }

    // Write-ahead: the record of what is about to happen lands before anything happens. It is
    // written while the ledger opens the call (no effects): the handler waits for both.
    // Arguments are redacted again here: the workflow should have, but a secret must never slip through.
    const before = input.before.map((e) => (e.args === undefined ? e : { ...e, args: redactArgs(catalog, e.tool ?? input.tool, e.args) }));
    const written = before.length > 0 ? audit.append(before) : Promise.resolve();
    // Awaited below; this keeps a failure that lands before then from counting as unhandled.
    written.catch(() => undefined);

    let outcome: ToolOutcome;
    if (def && checked?.success) {
      outcome = await execute(def, checked.data, input, written);
    } else {
      await written;
      outcome = failed(checked && !checked.success ? new ToolArgumentsError(input.tool, checked.issues) : new UnknownToolError(input.tool), 0);
    }

    await audit.append([outcomeEvent(input, def, redactedArgs, outcome)]);
    return input.checkFirst ? { ...outcome, redactedArgs } : outcome;
  }

  /**
   * The handler under the ledger: at most once per idempotency key. `written` is the write-ahead
   * append in flight: nothing runs before it has landed, and its failure is this call's (thrown).
   */
  async function execute(def: AnyToolDefinition, args: unknown, input: RunToolInput, written: Promise<unknown>): Promise<ToolOutcome> {
    // The arguments as proposed (before defaults): what a retry of the same call sends again.
    const meta = { sessionId: input.sessionId, proposalSeq: input.proposalSeq, argsDigest: argsDigest(input.args) };
    const actx = activityContext();
    const attempt = actx?.info.attempt ?? 1;
    // Heartbeats from the start, waits included (for the agent's slot, a connection, the key's lock):
    // Temporal tells a timed-out or cancelled attempt so only in a heartbeat's answer, and one that
    // never heard it would go on to run. Local activities cannot heartbeat: the worker holding the
    // workflow task vouches for them.
    let hb: NodeJS.Timeout | undefined;
    if (actx && !actx.info.isLocal) {
      const every = Math.max(200, Math.min(HEARTBEAT_DEFAULT_MS, (actx.info.heartbeatTimeoutMs ?? 3 * HEARTBEAT_DEFAULT_MS) / 3));
      hb = setInterval(() => actx.heartbeat({ tool: def.name, idempotencyKey: input.idempotencyKey }), every);
      hb.unref();
    }
    let checked: CheckedOutClient;
    let slot: (() => void) | undefined;
    try {
      if (def.upstream && input.agentId !== undefined) {
        slot = await slots.acquire(input.agentId, actx?.cancellationSignal);
        actx?.cancellationSignal.throwIfAborted();
      }
      await ensureLedger(pool);
      checked = await checkout(pool);
    } catch (err) {
      if (hb) clearInterval(hb);
      slot?.();
      await written;
      if (actx?.cancellationSignal.aborted) throw actx.cancellationSignal.reason;
      return finalise(def, classifyError(err), attempt, 0, input);
    }
    const { client } = checked;

    const started = performance.now();
    let broken: Error | undefined;
    let relayed = 0;
    // An upstream's handler counts the notes it relayed (`countRelayedNote`); on the first attempt
    // only: notes an earlier attempt relayed under the same key would make the count wrong.
    const counted = (): { relayedNotes?: number } => (def.upstream && attempt === 1 ? { relayedNotes: relayed } : {});
    try {
      // One round trip: the timeout bounds every statement, the lock wait included (a stuck
      // duplicate times out as transient); a duplicate attempt of the same key waits for the
      // lock until the first commits or rolls back, then finds its row.
      const prior = await beginCall(client, input.idempotencyKey, def.timeoutMs);
      await written;
      if (prior) {
        await client.query('COMMIT');
        return fromLedger(def, prior, meta);
      }
      // Told meanwhile (a heartbeat's answer) that Temporal cancelled or timed out this attempt: it never
      // runs (the catch below rolls back and reports the cancellation).
      actx?.cancellationSignal.throwIfAborted();
      const ctx: ToolContext = {
        db: client,
        idempotencyKey: input.idempotencyKey,
        sessionId: input.sessionId,
        proposalSeq: input.proposalSeq,
        ...(input.agentId !== undefined ? { agentId: input.agentId } : {}),
        attempt,
        ...(input.maxAttempts !== undefined ? { maxAttempts: Math.min(def.retry.maxAttempts, input.maxAttempts) } : {}),
        signal: actx?.cancellationSignal ?? new AbortController().signal,
        heartbeat: (details?: unknown) => {
          if (actx && !actx.info.isLocal) actx.heartbeat(details);
        },
        countRelayedNote: () => {
          relayed += 1;
        },
      };
      const raw = await def.handler(args, ctx);
      const out = def.output.safeParse(raw);
      if (!out.success) throw new ToolOutputError(def.name, out.error.issues.map((i: z.ZodIssue) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
      // JSON round trip, and what PostgreSQL cannot store (NUL, lone surrogates) made U+FFFD: the
      // first run returns exactly what a replay from the ledger would, and a result a server echoed
      // an agent's NUL into cannot fail the ledger's write of a call that took effect.
      const json = out.data === undefined ? 'null' : JSON.stringify(out.data);
      const result: unknown = scrub(JSON.parse(json));
      const latencyMs = Math.round(performance.now() - started);
      await finishCall(client, input.idempotencyKey, meta, { tool: def.name, status: 'executed', result, error: null, latencyMs });
      // Scrubbing only shortens the JSON (an escape becomes U+FFFD): its length still bounds the result's.
      return { status: 'executed', result: returned(result, json.length), latencyMs, ...counted() };
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      // A server's error text can echo a secret argument: it reaches the ledger, the trail and the workflow without it.
      const error = hideSecrets(classifyError(err, def.retry.nonRetryable), secretsAt(args, def.sensitive));
      const latencyMs = Math.round(performance.now() - started);
      const outcome = failed(error, latencyMs);
      const writeAheadLanded = await written.then(() => true, () => false);
      // Cancellation (halt, timeout) is Temporal's to report, not a tool failure.
      const cancelled = actx?.cancellationSignal.aborted === true;
      // A final failure is recorded before the key's lock is let go (the handler's writes undone): a
      // duplicate attempt waiting for the lock then returns it, never runs again to answer differently.
      const recorded = writeAheadLanded && !cancelled && isFinal(def, error, attempt, input) &&
        (await failCall(client, input.idempotencyKey, meta, { tool: def.name, status: 'failed', result: null, error: outcome.error!, latencyMs }).then(() => true, () => false));
      if (!recorded) await client.query('ROLLBACK').catch(() => undefined);
      // A write-ahead append that failed is the call's failure, whatever else went wrong: thrown.
      await written;
      if (cancelled) throw actx!.cancellationSignal.reason;
      return recorded ? { ...outcome, ...counted() } : finalise(def, error, attempt, latencyMs, input);
    } finally {
      if (hb) clearInterval(hb);
      checked.release(isConnectionError(broken) ? broken : undefined);
      slot?.();
    }
  }

  /** Retry while attempts remain; otherwise record the failure in the ledger and return it. */
  async function finalise(def: AnyToolDefinition, err: ToolError, attempt: number, latencyMs: number, input: RunToolInput): Promise<ToolOutcome> {
    if (!isFinal(def, err, attempt, input)) throw toFailure(err);
    const outcome = failed(err, latencyMs);
    try {
      // The failure is final for this key: a later attempt returns it rather than running again.
      await recordEntry(pool, input.idempotencyKey, { sessionId: input.sessionId, proposalSeq: input.proposalSeq, argsDigest: argsDigest(input.args) }, {
        tool: def.name,
        status: 'failed',
        result: null,
        error: outcome.error!,
        latencyMs,
      });
    } catch {
      // The database may be what failed; nothing ran, so an unrecorded failure is safe to run again.
    }
    return outcome;
  }

  function fromLedger(def: AnyToolDefinition, prior: LedgerEntry, meta: CallMeta & { readonly argsDigest: string }): ToolOutcome {
    // Keys start with their session's id; a row of another session under the same key is never this call's.
    if (prior.sessionId !== undefined && prior.sessionId !== meta.sessionId) {
      return failed(new ToolError('IdempotencyKeyConflict', 'idempotency key already used by another session'), 0);
    }
    if (prior.tool !== def.name) {
      return failed(new ToolError('IdempotencyKeyConflict', `idempotency key already used by tool \`${prior.tool}\``), 0);
    }
    // The key's first call ran with other arguments: its result is not this call's (the trail would say these ran).
    if (prior.argsDigest !== undefined && prior.argsDigest !== meta.argsDigest) {
      return failed(new ToolError('IdempotencyKeyConflict', 'idempotency key already used for a call with other arguments'), 0);
    }
    if (prior.status === 'executed') return { status: 'executed', result: returned(prior.result), latencyMs: prior.latencyMs };
    return { status: 'failed', error: prior.error ?? { type: 'ToolError', message: 'failed', retryable: false }, latencyMs: prior.latencyMs };
  }

  return { prepareCall, runTool };
}

/** The activity functions, for `proxyActivities<ToolActivities>()` in workflow code. */
export type ToolActivities = ReturnType<typeof createToolActivities>;

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called directly (tests, scripts): no heartbeats, attempt 1
  }
}

function activitySignal(): AbortSignal {
  return activityContext()?.cancellationSignal ?? new AbortController().signal;
}

/** A client whose connection died must be destroyed, not returned to the pool. */
function isConnectionError(err: Error | undefined): err is Error {
  if (!err) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'))) || /Connection terminated|ECONNRESET|not queryable/i.test(err.message);
}
