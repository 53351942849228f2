/**
 * Shared pieces of the approvals tests and benchmark: Slack-signed interaction payloads, an
 * approval request factory, and a harness wiring the real Bolt app (holding the test
 * approvals-service key), the fake Slack Web API, a real Temporal worker (running the recorder
 * workflow) and a fresh database together.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Client, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { connectTemporal } from '../../client/grpc-retry';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { LogLevel, webApi } from '@slack/bolt';
import { createApprovalActivities } from '../../activities/approvals';
import { createApprovalsApp, type ApprovalsApp, type InteractionEvent } from '../../approvals/slack/app';
import { ApprovalStore } from '../../approvals/store';
import type { ApprovalRequest } from '../../approvals/types';
import type { ApprovalSignal, VoteAnswer } from '../../workflows/contract';
import { base64 } from '@scure/base';
import type { Keyset, VoteDecision } from '../../policies/trust';
import { testTrust, TEST_SLACK_USERS } from '../support/trust';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';
import { quietBundleLogger, sharedBundle } from '../support/shared-bundle';
import { approvalRecorder, receivedQuery, setViewSignal } from './workflows/recorder';
import { approvalRequest, pendingViewOf, sessionViewOf, TEAM_ID, type SlackUser } from './fixtures';

export { approvalRequest, GROUP_MEMBERS, pendingViewOf, requirement, sessionViewOf, TEAM_ID, USERS, type SlackUser } from './fixtures';

/**
 * The keyset the approvals app trusts in these tests: the test keyset, with the agent's own Slack
 * account mapped too (so that the vote rule, not the mapping, is what refuses it).
 */
export const HARNESS_KEYSET: Keyset = {
  ...testTrust().keyset,
  slackUsers: [...TEST_SLACK_USERS, { userId: 'U0BOTUSER', teamId: TEAM_ID, approver: 'billing-bot' }],
};

/** The payload of a signed vote, as the workflow reads it once the signature checks. */
export function votePayload(envelope: ApprovalSignal): VoteDecision {
  return JSON.parse(new TextDecoder().decode(base64.decode(envelope.payload))) as VoteDecision;
}

export const SIGNING_SECRET = 'gatehouse-test-signing-secret';
export const BOT_TOKEN = 'xoxb-gatehouse-test';

/** Slack's request signature headers for `body` (v0 HMAC-SHA256 of `v0:<ts>:<body>`). */
export function signedHeaders(body: string, opts: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', opts.secret ?? SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${sig}` };
}

function form(payload: unknown): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

let clickSeq = 0;

/** The part every interaction payload shares: who acted, in which workspace and app. */
function interaction(type: string, user: SlackUser): Record<string, unknown> {
  clickSeq += 1;
  return {
    type,
    team: { id: user.teamId ?? TEAM_ID, domain: 'gatehouse-test' },
    user: { id: user.id, username: user.username, name: user.username, team_id: user.teamId ?? TEAM_ID },
    api_app_id: 'A000TEST',
    token: 'legacy-verification-token',
    trigger_id: `${Date.now()}.${clickSeq}.trigger`,
  };
}

/** The body Slack posts when a button of our message is clicked. */
export function buttonClickBody(opts: {
  readonly actionId: string;
  readonly approvalId: string;
  readonly user: SlackUser;
  readonly channel: string;
  readonly ts: string;
  readonly actionTs?: string;
}): string {
  return form({
    ...interaction('block_actions', opts.user),
    container: { type: 'message', message_ts: opts.ts, channel_id: opts.channel, is_ephemeral: false },
    channel: { id: opts.channel, name: 'gatehouse-approvals' },
    message: { type: 'message', ts: opts.ts, text: 'Approval needed', bot_id: 'B000BOT' },
    actions: [
      {
        type: 'button',
        action_id: opts.actionId,
        block_id: 'gatehouse_decision',
        value: opts.approvalId,
        text: { type: 'plain_text', text: opts.actionId },
        action_ts: opts.actionTs ?? `${(Date.now() / 1000).toFixed(6)}${clickSeq}`,
      },
    ],
  });
}

/** The body Slack posts when the Deny modal is submitted. */
export function denySubmitBody(opts: {
  readonly privateMetadata: string;
  readonly user: SlackUser;
  readonly reason: string;
  readonly viewId?: string;
}): string {
  return form({
    ...interaction('view_submission', opts.user),
    view: {
      id: opts.viewId ?? `VSUBMIT${clickSeq}`,
      team_id: opts.user.teamId ?? TEAM_ID,
      type: 'modal',
      callback_id: 'gatehouse_deny_reason',
      private_metadata: opts.privateMetadata,
      state: { values: { gatehouse_reason: { reason: { type: 'plain_text_input', value: opts.reason } } } },
      hash: `h${clickSeq}`,
      title: { type: 'plain_text', text: 'Deny this action' },
      blocks: [],
      app_id: 'A000TEST',
      bot_id: 'B000BOT',
    },
    response_urls: [],
  });
}

/** POSTs a raw body to the app with the given headers; answers the HTTP status. */
export async function postRaw(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  await res.arrayBuffer();
  return res.status;
}

/** Everything an approvals integration test needs, started once per file. */
export interface Harness {
  readonly db: TestDatabase;
  readonly store: ApprovalStore;
  readonly slack: FakeSlack;
  readonly app: ApprovalsApp;
  /** URL the app receives interactions on. */
  readonly url: string;
  readonly client: Client;
  readonly taskQueue: string;
  readonly activities: ReturnType<typeof createApprovalActivities>;
  /** Every interaction the app has finished handling. */
  readonly interactions: InteractionEvent[];
  /** Resolves with the next handled interaction matching `match` (including past ones not yet taken). */
  nextInteraction(match?: (e: InteractionEvent) => boolean): Promise<InteractionEvent>;
  /** Starts a recorder workflow and requests an approval for it (posted to the fake Slack). */
  /**
   * Starts a recorder workflow and requests an approval for it. The recorder answers each vote as a
   * session would count it (`answerVote`), or, with `olderWorker`, takes votes only as the signal.
   */
  newApproval(overrides?: Partial<ApprovalRequest>, worker?: { readonly olderWorker?: boolean }): Promise<{ req: ApprovalRequest; handle: WorkflowHandleWithFirstExecutionRunId; channel: string; ts: string }>;
  /** Signals the recorder has received. */
  received(handle: WorkflowHandle): Promise<ApprovalSignal[]>;
  /** Signs and posts `body`; answers the status. */
  post(body: string, headers?: Record<string, string>): Promise<number>;
  /** Clicks a button as `user` and waits until the app has handled it. */
  click(action: 'approve' | 'deny', user: SlackUser, target: { approvalId: string; channel: string; ts: string }, actionTs?: string): Promise<InteractionEvent>;
  /** Submits the Deny modal opened last for `user` and waits until handled. */
  submitDeny(user: SlackUser, reason: string, viewId?: string): Promise<InteractionEvent>;
  close(): Promise<void>;
}

/**
 * What a session would answer to a vote the app already checked: who it counts (the Slack person
 * the keyset maps, or the key's principal), in which group, and whether it settles the approval.
 * A stand-in for the one vote rule, enough for tests of what the app shows (the real session is
 * exercised in `session.test.ts` and `vote-answer.test.ts`).
 */
function answerAsSession(requests: ReadonlyMap<string, ApprovalRequest>, tallies: Map<string, Set<string>>, s: ApprovalSignal): VoteAnswer {
  const vote = votePayload(s);
  const req = requests.get(vote.approvalId);
  if (!req) return { counted: false, rule: 'approval.unknown', message: `no approval \`${vote.approvalId}\` was requested` };
  const slack = vote.onBehalfOf;
  const approver = slack
    ? HARNESS_KEYSET.slackUsers?.find((u) => u.userId === slack.slackUserId && u.teamId === slack.slackTeamId)?.approver
    : HARNESS_KEYSET.keys.find((k) => k.keyId === s.signatures[0]?.keyid)?.principal;
  if (approver === undefined) return { counted: false, rule: 'approval.identity', message: 'an unknown voter' };
  const group = req.requirement.groups.find((g) => req.groupMembers[g]?.includes(approver)) ?? '';
  const approvers = tallies.get(req.approvalId) ?? new Set<string>();
  tallies.set(req.approvalId, approvers);
  if (vote.verdict === 'deny') return { counted: true, approver, group, status: 'denied' };
  approvers.add(approver);
  return { counted: true, approver, group, status: approvers.size >= req.requirement.approversRequired ? 'approved' : 'pending' };
}

/** Starts the harness: fresh database, fake Slack, the Bolt app on 127.0.0.1, a worker. */
/** What a custom worker factory gets: where to poll and what the app and activities use. */
export interface WorkerContext {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly db: TestDatabase;
  readonly slackClient: webApi.WebClient;
}

/** Options of `startHarness`. */
export interface HarnessOptions {
  /** Called by the recorder's activity when the workflow resumes on a signal. */
  readonly observed?: (s: ApprovalSignal) => void;
  readonly prefix?: string;
  /** Builds the worker; default: the recorder workflow. */
  readonly createWorker?: (ctx: WorkerContext) => Promise<Worker>;
  /** The keyset the approvals app trusts, when it is not the one the worker has (an operator changed one). */
  readonly appKeyset?: Keyset;
}


export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  /** The approvals requested, by id: what the recorder's answers are computed from. */
  const requests = new Map<string, ApprovalRequest>();
  /** Approvers counted so far, per approval: the recorder's stand-in for a session's tally. */
  const tallies = new Map<string, Set<string>>();
  const servers = await getTestServers();
  const db = await createTestDatabase(opts.prefix ?? 'approvals');
  const store = new ApprovalStore(db.pool);
  const slack = await startFakeSlack();
  const slackClient = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: slack.url });
  const connection = await connectTemporal({ address: servers.temporalAddress });
  const client = new Client({ connection, namespace: servers.namespace });
  const taskQueue = `test-approvals-${randomBytes(4).toString('hex')}`;
  const nativeConnection = await NativeConnection.connect({ address: servers.temporalAddress });
  const worker = opts.createWorker
    ? await opts.createWorker({ connection: nativeConnection, namespace: servers.namespace, taskQueue, db, slackClient })
    : await Worker.create({
        connection: nativeConnection,
        namespace: servers.namespace,
        taskQueue,
        // Bundled once per run for the files that use the recorder (support/shared-bundle.ts).
        workflowBundle: await sharedBundle('approvals-recorder', () => bundleWorkflowCode({ workflowsPath: require.resolve('./workflows/recorder'), logger: quietBundleLogger() })),
        activities: {
          async observed(s: ApprovalSignal) {
            opts.observed?.(s);
          },
          answerVote: async (s: ApprovalSignal) => answerAsSession(requests, tallies, s),
        },
      });
  const running = worker.run();

  const interactions: InteractionEvent[] = [];
  const taken = new Set<InteractionEvent>();
  const waiters: Array<{ match: (e: InteractionEvent) => boolean; resolve: (e: InteractionEvent) => void }> = [];
  const app = createApprovalsApp({
    token: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    slackApiUrl: slack.url,
    port: 0,
    host: '127.0.0.1',
    store,
    signingKey: testTrust().service,
    keyset: opts.appKeyset ?? HARNESS_KEYSET,
    temporalClient: client,
    logLevel: LogLevel.ERROR,
    onInteraction: (e) => {
      interactions.push(e);
      const i = waiters.findIndex((w) => w.match(e));
      if (i >= 0) {
        taken.add(e);
        waiters.splice(i, 1)[0]?.resolve(e);
      }
    },
  });
  const { url } = await app.start();
  if (!url) throw new Error('the approvals app did not report its url');
  const activities = createApprovalActivities({ store, slack: slackClient });

  function nextInteraction(match: (e: InteractionEvent) => boolean = () => true): Promise<InteractionEvent> {
    const past = interactions.find((e) => !taken.has(e) && match(e));
    if (past) {
      taken.add(past);
      return Promise.resolve(past);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no interaction was handled within 20 s')), 20_000);
      waiters.push({ match, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  }

  const post = (body: string, headers: Record<string, string> = signedHeaders(body)) => postRaw(url, body, headers);

  return {
    db,
    store,
    slack,
    app,
    url,
    client,
    taskQueue,
    activities,
    interactions,
    nextInteraction,
    async newApproval(overrides = {}, worker = {}) {
      const sessionId = `appr-${randomBytes(5).toString('hex')}`;
      const workflowId = `session-${sessionId}`;
      // (A count, not Infinity: arguments travel as JSON.)
      const handle = await client.workflow.start(approvalRecorder, { taskQueue, workflowId, args: worker.olderWorker ? [] : [Number.MAX_SAFE_INTEGER, true] });
      const req = approvalRequest(workflowId, { sessionId, firstRunId: handle.firstExecutionRunId, ...overrides });
      requests.set(req.approvalId, req);
      const result = await activities.requestApproval(req);
      if (!result.post) throw new Error('the request was not posted');
      // What the session workflow would answer: it waits for exactly this call.
      await handle.signal(setViewSignal, sessionViewOf(req, [pendingViewOf(req)]));
      return { req, handle, channel: result.post.channel, ts: result.post.ts };
    },
    received: (handle) => handle.query(receivedQuery),
    post,
    async click(action, user, target, actionTs) {
      const actionId = action === 'approve' ? 'gatehouse_approve' : 'gatehouse_deny';
      const body = buttonClickBody({ actionId, approvalId: target.approvalId, user, channel: target.channel, ts: target.ts, ...(actionTs ? { actionTs } : {}) });
      const handled = nextInteraction((e) => e.user === user.id && e.approvalId === target.approvalId && e.kind === (action === 'approve' ? 'approve' : 'deny-form'));
      const status = await post(body);
      if (status !== 200) throw new Error(`the app answered ${status} to a signed click`);
      return handled;
    },
    async submitDeny(user, reason, viewId) {
      const opened = slack.callsOf('views.open').at(-1);
      const view = opened?.args.view as { private_metadata?: string } | undefined;
      if (!view?.private_metadata) throw new Error('no deny modal was opened');
      const meta = JSON.parse(view.private_metadata) as { approvalId: string };
      const body = denySubmitBody({ privateMetadata: view.private_metadata, user, reason, ...(viewId ? { viewId } : {}) });
      const handled = nextInteraction((e) => e.kind === 'deny' && e.user === user.id && e.approvalId === meta.approvalId);
      const status = await post(body);
      if (status !== 200) throw new Error(`the app answered ${status} to a signed submission`);
      return handled;
    },
    async close() {
      await app.stop().catch(() => undefined);
      worker.shutdown();
      await running.catch(() => undefined);
      await nativeConnection.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await slack.close().catch(() => undefined);
      await db.drop().catch(() => undefined);
    },
  };
}
