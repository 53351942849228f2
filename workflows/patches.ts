/**
 * Patches a session takes once, at the first line of every run, instead of where the code branches.
 *
 * A `patched` call inside an update handler runs after the handler's awaits, and on replay the SDK
 * resolves a local activity by looking ahead in the history: the call can then come before the
 * history's marker is known, `patched` answers false, and the replay fails with "Non-deprecated
 * patch marker encountered" (BENCHMARKS, "CI speed (session 12)"). A run that records
 * `PATCHES_AT_START` at its start is new code, so every older patch holds for it and no handler
 * records a marker. A run recorded before it asks each older patch where it always did.
 */
import { patched } from '@temporalio/workflow';

export const PATCHES_AT_START = 'patches-at-start';

/** Taken at the first line of a run, before any handler exists. */
export function patchesTakenAtStart(): boolean {
  return patched(PATCHES_AT_START);
}

/**
 * The patches older than `PATCHES_AT_START`: every run that took it has them all. A patch newer than
 * it is not one of these: take it at the start of the run the same way (`patched` beside
 * `patchesTakenAtStart`, under a new id), never through `hasPatch`, which would claim it for runs
 * recorded before it.
 */
export type OlderPatch =
  | 'worker-session-bound'
  | 'idle-sessions-end'
  | 'intent-scored-in-run-tool'
  | 'intent-lowest-fold'
  | 'lean-proposals'
  | 'arguments-checked-in-run-tool'
  | 'blast-radius-remeasured-after-approval'
  | 'ledger-reserve-as-activity'
  | 'ledger-leases'
  | 'vote-names-tool'
  | 'child-from-parent-record'
  | 'pause-survives-restore'
  | 'spawn-recorded-by-parent';

/**
 * A patch newer than `PATCHES_AT_START`, taken at the first line of a run beside it: true in runs
 * recorded with it (and every new run), false in runs recorded before it.
 */
export function takenAtStart(
  id: typeof LEDGER_KEY_BY_UPDATE | typeof ESTIMATE_AFTER_DENY_RULES | typeof HALT_REACHES_STARTING_CHILDREN | typeof ARGUMENT_BOUNDS_AS_RUN | typeof APPROVAL_HOLDS_PAUSE_AND_DEADLINE | typeof SUB_AGENTS_WITHIN_PARENT | typeof HALT_STOPS_UNSTARTED_CALLS | typeof SEQUENCES_ACROSS_TREE | typeof FOUR_EYES_BY_IDENTITY | typeof RATES_SHARED_IN_TREE | typeof INTENT_FAILS_CLOSED | typeof PAUSE_HOLDS_UNSTARTED_CALLS | typeof ESCALATION_BEST_EFFORT | typeof LADDER_OF_EVERY_PART | typeof SLACK_BESIDE_WAIT,
): boolean {
  return patched(id);
}

/** `patched(id)` for a patch older than `PATCHES_AT_START`: true without a marker in new runs. */
export function hasPatch(core: { readonly patchesAtStart: boolean }, id: OlderPatch): boolean {
  return core.patchesAtStart || patched(id);
}

/**
 * Patch id, taken at the start of a run (newer than `PATCHES_AT_START`): a proposal without an
 * idempotency key of its own is keyed in the ledger by its update id, not by its number in the
 * session. A stale copy of the workflow (a worker frozen past its task's timeout, then resumed)
 * can handle an update again under the next number; keyed by number, the tool ran twice.
 */
export const LEDGER_KEY_BY_UPDATE = 'ledger-key-by-update-id';

/**
 * Patch id, taken at the start of a run: a call its policy denies whatever its blast radius is, is
 * denied before its estimator runs. The estimator runs the agent's arguments (against production,
 * or through an upstream's count tool), and its count reaches the agent in the reasons: a closed
 * session, a blocked tool or a spent budget must not reach it.
 */
export const ESTIMATE_AFTER_DENY_RULES = 'estimate-after-deny-rules';

/**
 * Patch id, taken at the start of a run: a halt handled while a sub-agent starts reaches that
 * sub-agent too. The halt signals the children it lists; one whose start resolved after that
 * list was read ran on, unhalted, with its share of the budget.
 */
export const HALT_REACHES_STARTING_CHILDREN = 'halt-reaches-starting-children';

/**
 * Patch id, taken at the start of a run: argument bounds judge what the tool runs, not the text the
 * agent sent (`CompileOptions.argumentsAsRun`, policies/compile.ts). A pattern-bound string holding a
 * dot segment, a backslash or a control character fails its bound (a server resolved
 * `<root>/config.json/notes/..` to `<root>/config.json`); a missing bounded argument is judged at the
 * default the tool publishes; a list or other non-object value met on a bound's path fails it.
 * Sessions recorded before compile their policy without it and decide as they did.
 */
export const ARGUMENT_BOUNDS_AS_RUN = 'argument-bounds-as-run';

/**
 * Patch id, taken at the start of a run: an approved call waits while its session or its tool is
 * paused (an approver's vote does not lift an operator's pause), a halt that lands while the
 * ledgers answer stops it, and a vote handled at or after the approval's deadline expires it
 * instead of counting (the timer and the vote can arrive in one task). Runs recorded before
 * decide as they did.
 */
export const APPROVAL_HOLDS_PAUSE_AND_DEADLINE = 'approval-holds-pause-and-deadline';

/**
 * Patch id, taken at the start of a run: a sub-agent stays within its parent. A session that ends,
 * however it ends, halts the children it started (each does the same for its own), unless its halt
 * already reached them; a pause (of the session or of one tool) is forwarded to its children; a
 * pause of `session.spawnChild` holds a spawn like a tool's, a pause that lands while a spawn waits
 * denies it (`session.paused`), and a child starts with its parent's paused tools; a child's mandate
 * is its parent's, or the one it asked for within the parent's (`policies/sub-agents.ts`,
 * `childMandate`). Runs recorded before decide as they did.
 */
export const SUB_AGENTS_WITHIN_PARENT = 'sub-agents-within-parent';

/**
 * Patch id, taken at the start of a run: a halt handled before a call's `runTool` is scheduled
 * stops the call, wherever the workflow waited after the gate allowed it (a cross-session
 * reservation, earlier audit writes landing). An allowed call ran after `halted` was recorded
 * when the halt arrived while it reserved in an `agent:` ledger or waited for the trail to settle.
 * Runs recorded before decide as they did.
 */
export const HALT_STOPS_UNSTARTED_CALLS = 'halt-stops-unstarted-calls';

/**
 * Patch id, taken at the start of a run: forbidden sequences hold across a session tree. A session
 * that spawns keeps one progress for its tree (`policies/tree-sequences.ts`), seeded with its own;
 * its own calls that take part in a sequence are checked and counted there, and a sub-agent's are
 * asked of the root (the `treeStep` update, through the `askTreeRoot` activity) before they run. A
 * parent listing volumes and its child unmounting one completed the sequence unseen. Runs recorded
 * before decide as they did.
 */
export const SEQUENCES_ACROSS_TREE = 'sequences-across-tree';

/**
 * Patch id, taken at the start of a run: four eyes knows the owner under every name: the approver a
 * Slack identity of the owner's id maps to (an owner written `U0…` voted through Slack as `eng-007`
 * and counted), and names in any case or with surrounding spaces (`Eng-007` against `eng-007`). The
 * agent itself is matched the same way. Runs recorded before decide as they did.
 */
export const FOUR_EYES_BY_IDENTITY = 'four-eyes-by-identity';

/**
 * Patch id, taken at the start of a run: a spawn shares the rate limits as it shares the budget —
 * the child takes the policy's share of each limit (rounded down), the parent keeps the rest, and
 * the child starts with the parent's rate windows (policies/sub-agents.ts `childStart`). Before it,
 * each sub-agent started with whole limits and empty windows, so spawning multiplied the rates.
 * Runs recorded before spawn as they did.
 */
export const RATES_SHARED_IN_TREE = 'rates-shared-in-tree';

/**
 * Patch id, taken at the start of a run: an executed call the intent scorer cannot score (its
 * retries spent: the scorer down, or text it chokes on, which an agent can put in its arguments)
 * counts as unaligned — score 0, the session in review — with an `intent.unscored` alert. Before
 * it, the failure ended the proposal's update and the session went on unscored, review never
 * reached. Runs recorded before behave as they did.
 */
export const INTENT_FAILS_CLOSED = 'intent-fails-closed';

/**
 * Patch id, taken at the start of a run: a pause of the session or of the tool that lands after the
 * gate allowed a call, while it waited for an estimate, a ledger reservation or an audit write,
 * holds the call until it is lifted (workflows/before-run.ts), as it holds every proposal before it
 * is gated; before it, the call ran inside the pause. A quick call waits until nothing is landing
 * in the trail (a write recorded during its wait used to make its own write-ahead events arrive out
 * of order, failing the update and stalling the trail), and a local tool activity's final failure
 * is recorded as the call's failure (it arrives as its ApplicationFailure, not an ActivityFailure,
 * and failed the update unrecorded and uncounted). Runs recorded before behave as they did.
 */
export const PAUSE_HOLDS_UNSTARTED_CALLS = 'pause-holds-unstarted-calls';

/**
 * Patch id, taken at the start of a run (by the approval desk): an escalation that fails for good
 * (Slack down past the activity's retries, an archived channel) is an `approval.escalation-failed`
 * alert, and the approval waits on for votes and its deadline. Before it, the failure ended the
 * proposal's update: no `expired` event, the approval row left `pending` with live buttons, the
 * proposal never counted. Runs recorded before behave as they did.
 */
export const ESCALATION_BEST_EFFORT = 'escalation-best-effort';

/**
 * Patch id, taken at the start of a run (by the approval desk): an approval with two parts (an
 * unlock and the call's own approval) escalates at the escalation steps of both parts, as the vote
 * rule widens each part with the clock. Before it, only the unlock part's steps escalated: the
 * call's own approvers were widened silently, never told. Runs recorded before behave as they did.
 */
export const LADDER_OF_EVERY_PART = 'ladder-of-every-part';

/**
 * Patch id, taken at the start of a run (by the approval desk): Slack is told beside the approval's
 * wait, never in its way. The row is stored first (`storeApproval`: the CLI and the console decide
 * on it), then the request and each escalation are posted while the wait counts votes and keeps its
 * deadline. Before it, the wait stood still while a post was retried (Slack down: up to the
 * activity's 10-minute bound; then a failed request failed the proposal): a vote already counted did
 * not release the call, the deadline's denial came late, and the CLI could not decide while Slack
 * was down, as the docs promised. Posts still in flight when the wait ends are cancelled (with an
 * alert at the deadline). Runs recorded before behave as they did.
 */
export const SLACK_BESIDE_WAIT = 'slack-beside-wait';
