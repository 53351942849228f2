/**
 * The Slack app that receives Approve / Deny clicks: the real Bolt `App`.
 *
 * HTTP mode (the default) uses Bolt's `HTTPReceiver`, whose request-signature verification
 * (HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret, timestamps older than five
 * minutes refused) answers 401 before any listener runs. Socket Mode is chosen by configuration.
 *
 * Only after Bolt verified a request does the app vote, signing with its own approvals-service
 * key on behalf of the Slack user id and team id of the interaction body (never a handle or a
 * display name); the keyset's `slackUsers` says which approver that person is. A click goes
 * through `decide()` (`client/decide.ts`, the path shared with the CLI): refused → an ephemeral explanation to the
 * clicker, nothing signalled; accepted → the signed vote is signalled to the session workflow
 * and the message is updated in place. Deny first opens a modal asking for the reason.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { App, HTTPReceiver, LogLevel, type BlockAction, type ButtonAction, type webApi } from '@slack/bolt';
import type { Client } from '@temporalio/client';
import type { SigningKey } from '../../client/trust/key-files';
import { findKey, type Keyset } from '../../policies/trust';
import { checkDecision, identify } from '../check-decision';
import { checkShownRow, decide, temporalStateReader, type DecideResult, type SessionStateReader, type Voter } from '../../client/decide';
import { temporalVoteSender, type VoteSender } from '../../client/vote-sender';
import type { Refusal } from '../check-decision';
import {
  APPROVE_ACTION_ID,
  DENY_ACTION_ID,
  DENY_REASON_ACTION_ID,
  DENY_REASON_BLOCK_ID,
  DENY_VIEW_CALLBACK_ID,
  renderDenyModal,
  renderRefused,
  renderRequest,
  renderResolved,
  slackShowsWholeCall,
  type DenyModalMetadata,
} from '../messages';
import type { ApprovalStore } from '../store';
import type { SlackPost } from '../types';

/** Options of `createApprovalsApp`. */
export interface ApprovalsAppOptions {
  /** Bot token (`xoxb-...`). */
  readonly token: string;
  /** Signing secret of the Slack app: required in HTTP mode. */
  readonly signingSecret?: string;
  /** Web API base URL (tests point it at a local fake). @default 'https://slack.com/api/' */
  readonly slackApiUrl?: string;
  /** HTTP port; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** Interface to bind in HTTP mode. @default '0.0.0.0' */
  readonly host?: string;
  /** Use Socket Mode (needs `appToken`) instead of an HTTP endpoint. @default false */
  readonly socketMode?: boolean;
  /** App-level token (`xapp-...`) for Socket Mode. */
  readonly appToken?: string;
  /** Path Slack posts interactions to. @default '/slack/events' */
  readonly endpoint?: string;
  readonly store: ApprovalStore;
  /** The approvals service's own key (role `approvals-service`): it signs votes for Slack people. */
  readonly signingKey: SigningKey;
  /** The keyset the worker trusts: the service key must be in it, `slackUsers` maps people to approvers. */
  readonly keyset: Keyset;
  /** Used to send votes to session workflows unless `sendVote` is given. */
  readonly temporalClient?: Client;
  /** Overrides how a signed vote is sent (and the session's answer read). */
  readonly sendVote?: VoteSender;
  /** Overrides how a session's `state` view is read (what a row is checked against before signing). */
  readonly state?: SessionStateReader;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default LogLevel.WARN */
  readonly logLevel?: LogLevel;
  /** Called once each interaction has been handled (metrics, logs, tests). */
  readonly onInteraction?: (event: InteractionEvent) => void;
}

/** How one interaction ended, reported to `onInteraction`. */
export interface InteractionEvent {
  /** `approve`: Approve clicked; `deny-form`: Deny clicked (modal opened or refused); `deny`: modal submitted. */
  readonly kind: 'approve' | 'deny-form' | 'deny';
  readonly approvalId: string;
  /** Slack user id of the clicker. */
  readonly user: string;
  /** The decision's outcome; absent for an opened deny form or an error. */
  readonly result?: DecideResult;
  readonly error?: string;
}

/** The running app. */
export interface ApprovalsApp {
  readonly app: App;
  /** Starts listening (HTTP) or connecting (Socket Mode); HTTP mode reports the bound URL. */
  start(): Promise<{ readonly url?: string; readonly port?: number }>;
  stop(): Promise<void>;
}

/** Thrown when the options cannot make a working app. */
export class ApprovalsAppConfigError extends Error {
  readonly type = 'ApprovalsAppConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalsAppConfigError';
  }
}

/** Builds the Bolt app; nothing listens until `start()`. */
export function createApprovalsApp(opts: ApprovalsAppOptions): ApprovalsApp {
  const endpoint = opts.endpoint ?? '/slack/events';
  const logLevel = opts.logLevel ?? LogLevel.WARN;
  const sendVote = opts.sendVote ?? (opts.temporalClient ? temporalVoteSender(opts.temporalClient) : undefined);
  if (!sendVote) throw new ApprovalsAppConfigError('a temporal client is required to send votes to session workflows');
  const state = opts.state ?? (opts.temporalClient ? temporalStateReader(opts.temporalClient) : undefined);
  if (!state) throw new ApprovalsAppConfigError('a temporal client is required to check approvals against their sessions');
  const now = opts.now ?? Date.now;
  const { store, signingKey, keyset } = opts;
  if (signingKey.role !== 'approvals-service') {
    throw new ApprovalsAppConfigError(`the approvals app signs with a key of role \`approvals-service\`, not \`${signingKey.role}\` (\`${signingKey.principal}\`)`);
  }
  const registered = findKey(keyset, signingKey.keyId);
  if (!registered || registered.role !== 'approvals-service' || registered.revoked) {
    throw new ApprovalsAppConfigError(`the approvals service key \`${signingKey.keyId}\` of \`${signingKey.principal}\` is not a live \`approvals-service\` key of the keyset: register its public key`);
  }
  const clientOptions = opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl } : undefined;

  let app: App;
  if (opts.socketMode) {
    if (!opts.appToken) throw new ApprovalsAppConfigError('socket mode needs an app-level token: set `SLACK_APP_TOKEN`');
    app = new App({ token: opts.token, appToken: opts.appToken, socketMode: true, logLevel, ...(clientOptions ? { clientOptions } : {}) });
  } else {
    if (!opts.signingSecret) throw new ApprovalsAppConfigError('http mode needs the signing secret: set `SLACK_SIGNING_SECRET`');
    // Signature verification stays on: Bolt's HTTPReceiver refuses unsigned, forged and stale requests with 401.
    const receiver = new HTTPReceiver({
      signingSecret: opts.signingSecret,
      endpoints: endpoint,
      logLevel,
      customRoutes: [
        { path: '/healthz', method: ['GET'], handler: (_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); } },
      ],
    });
    app = new App({ token: opts.token, receiver, logLevel, ...(clientOptions ? { clientOptions } : {}) });
  }

  const deps = { store, sendVote, state, keyset, now };

  /** The vote of the Slack person Bolt verified: the service key, on behalf of user id and team id. */
  const voterFor = (user: { id: string; team_id?: string }, team: { id: string } | null | undefined): Voter | undefined => {
    const slackTeamId = user.team_id ?? team?.id;
    return slackTeamId ? { key: signingKey, onBehalfOf: { slackUserId: user.id, slackTeamId } } : undefined;
  };
  const noTeam = 'the interaction names no slack team, so the approver cannot be identified';
  const report = (event: InteractionEvent): void => {
    try {
      opts.onInteraction?.(event);
    } catch {
      // An observer's failure must not affect the click.
    }
  };

  /** Updates every post of the approval (and the clicked message, if it is not one of them). */
  async function refreshMessages(client: webApi.WebClient, result: Extract<DecideResult, { ok: true }>, clicked?: SlackPost): Promise<void> {
    const { record } = result;
    const approvers = record.votes.filter((v) => v.approve).map((v) => v.approver);
    const last = record.votes[record.votes.length - 1];
    const msg = !result.final
      ? renderRequest(record)
      : last && !last.approve
        ? renderResolved(record, { status: 'denied', decidedBy: [last.approver], ...(last.reason ? { reason: last.reason } : {}), at: last.at })
        : renderResolved(record, { status: 'approved', decidedBy: approvers, ...(last?.reason ? { reason: last.reason } : {}), at: last?.at ?? new Date(now()).toISOString() });
    const targets = [...record.posts];
    if (clicked && !targets.some((p) => p.channel === clicked.channel && p.ts === clicked.ts)) targets.push(clicked);
    for (const p of targets) {
      await client.chat.update({ channel: p.channel, ts: p.ts, text: msg.text, blocks: msg.blocks as never });
    }
  }

  /** The decision is recorded and signalled even when the message cannot be updated: only warn. */
  const warnUpdate = (logger: { warn(...msg: unknown[]): void }, approvalId: string) => (err: unknown) => {
    logger.warn(`approval \`${approvalId}\` was decided but its slack message could not be updated: ${(err as Error).message}`);
  };

  /** A row that does not show its session's call: the clicked message loses its buttons and says why. */
  async function markRefused(client: webApi.WebClient, approvalId: string, refusal: Refusal, channel: string | undefined, ts: string | undefined): Promise<void> {
    if (refusal.code !== 'call-mismatch' && refusal.code !== 'not-pending') return;
    if (!channel || !ts) return;
    const msg = renderRefused(approvalId, refusal);
    await client.chat.update({ channel, ts, text: msg.text, blocks: msg.blocks as never });
  }

  /** Marking a refused message is best effort: the refusal itself stands. */
  const warnMark = (logger: { warn(...msg: unknown[]): void }, approvalId: string) => (err: unknown) => {
    logger.warn(`approval \`${approvalId}\` was refused but its slack message could not be marked: ${(err as Error).message}`);
  };

  /** A vote the session has not answered yet: the message shows nothing decided until the session says so. */
  const unanswered = (approvalId: string) =>
    `your vote on \`${approvalId}\` was sent; the session has not answered yet (is its worker running?): it counts or refuses the vote when it runs (a refusal is an alert in its trail, \`gatehouse trace\`), and this message shows the approval's outcome once it is settled`;

  async function explain(client: webApi.WebClient, channel: string | undefined, user: string, message: string): Promise<void> {
    if (!channel) return;
    await client.chat.postEphemeral({ channel, user, text: `:warning: ${message}` });
  }

  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION_ID, async ({ ack, body, action, client, logger }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const ts = body.message?.ts ?? body.container?.message_ts;
    try {
      const voter = voterFor(body.user, body.team);
      const result: DecideResult = voter
        ? await decide(deps, { approvalId: action.value ?? '', approve: true, voter, via: 'slack', clickId: `${body.user.id}:${action.action_ts}`, showedWholeCall: slackShowsWholeCall })
        : { ok: false, code: 'unknown-identity', message: noTeam };
      if (!result.ok) {
        await explain(client, channel, body.user.id, result.message);
        await markRefused(client, action.value ?? '', result, channel, ts).catch(warnMark(logger, action.value ?? ''));
      } else if (!result.answered) await explain(client, channel, body.user.id, unanswered(result.record.approvalId));
      else if (!result.duplicate) await refreshMessages(client, result, channel && ts ? { level: -1, channel, ts } : undefined).catch(warnUpdate(logger, result.record.approvalId));
      report({ kind: 'approve', approvalId: action.value ?? '', user: body.user.id, result });
    } catch (err) {
      logger.error(`approve click on \`${action.value}\` failed: ${(err as Error).message}`);
      await explain(client, channel, body.user.id, `your approval could not be recorded: ${(err as Error).message}`).catch(() => undefined);
      report({ kind: 'approve', approvalId: action.value ?? '', user: body.user.id, error: (err as Error).message });
    }
  });

  app.action<BlockAction<ButtonAction>>(DENY_ACTION_ID, async ({ ack, body, action, client, logger }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const ts = body.message?.ts ?? body.container?.message_ts;
    const approvalId = action.value ?? '';
    try {
      // Refuse before asking for a reason: a non-approver should not fill in a form to learn it.
      const record = await store.get(approvalId);
      const voter = voterFor(body.user, body.team);
      const who: DecideResult | ReturnType<typeof identify> = voter ? identify(keyset, voter, now()) : { ok: false, code: 'unknown-identity', message: noTeam };
      const checked = who.ok ? checkDecision(record, { approvalId, approver: who.approver, approve: false, reason: 'pending' }, now(), keyset) : who;
      // Nor a form for a row that does not show the call its session waits for.
      const pre = checked.ok && record ? await checkShownRow(deps, record, now()) : checked;
      if (!pre.ok) {
        await explain(client, channel, body.user.id, pre.message);
        await markRefused(client, approvalId, pre, channel, ts).catch(warnMark(logger, approvalId));
        report({ kind: 'deny-form', approvalId, user: body.user.id, result: pre });
        return;
      }
      if (!record) return;
      const metadata: DenyModalMetadata = { approvalId, ...(channel ? { channel } : {}), ...(ts ? { ts } : {}) };
      await client.views.open({ trigger_id: body.trigger_id, view: renderDenyModal(record, metadata) as never });
      report({ kind: 'deny-form', approvalId, user: body.user.id });
    } catch (err) {
      logger.error(`deny click on \`${approvalId}\` failed: ${(err as Error).message}`);
      await explain(client, channel, body.user.id, `the deny form could not be opened: ${(err as Error).message}`).catch(() => undefined);
      report({ kind: 'deny-form', approvalId, user: body.user.id, error: (err as Error).message });
    }
  });

  app.view(DENY_VIEW_CALLBACK_ID, async ({ ack, body, view, client, logger }) => {
    const reason = view.state.values[DENY_REASON_BLOCK_ID]?.[DENY_REASON_ACTION_ID]?.value?.trim() ?? '';
    if (!reason) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: 'a reason is required to deny' } });
      return;
    }
    await ack();
    let metadata: DenyModalMetadata;
    try {
      metadata = JSON.parse(view.private_metadata) as DenyModalMetadata;
    } catch {
      logger.error('deny modal submitted without readable metadata');
      return;
    }
    const user = body.user;
    try {
      const voter = voterFor(user, body.team);
      const result: DecideResult = voter
        ? await decide(deps, { approvalId: metadata.approvalId, approve: false, voter, reason, via: 'slack', clickId: `${user.id}:${view.id}` })
        : { ok: false, code: 'unknown-identity', message: noTeam };
      if (!result.ok) {
        await explain(client, metadata.channel, user.id, result.message);
        await markRefused(client, metadata.approvalId, result, metadata.channel, metadata.ts).catch(warnMark(logger, metadata.approvalId));
      } else if (!result.answered) {
        await explain(client, metadata.channel, user.id, unanswered(metadata.approvalId));
      } else if (!result.duplicate) {
        await refreshMessages(client, result, metadata.channel && metadata.ts ? { level: -1, channel: metadata.channel, ts: metadata.ts } : undefined).catch(
          warnUpdate(logger, result.record.approvalId),
        );
      }
      report({ kind: 'deny', approvalId: metadata.approvalId, user: user.id, result });
    } catch (err) {
      logger.error(`deny of \`${metadata.approvalId}\` failed: ${(err as Error).message}`);
      await explain(client, metadata.channel, user.id, `your denial could not be recorded: ${(err as Error).message}`).catch(() => undefined);
      report({ kind: 'deny', approvalId: metadata.approvalId, user: user.id, error: (err as Error).message });
    }
  });

  let started = false;
  return {
    app,
    async start() {
      if (opts.socketMode) {
        await app.start();
        started = true;
        return {};
      }
      const server = (await app.start({ port: opts.port ?? 3000, host: opts.host ?? '0.0.0.0' })) as Server;
      started = true;
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      return { port, url: `http://${host}:${port}${endpoint}` };
    },
    async stop() {
      if (!started) return;
      started = false;
      await app.stop();
    },
  };
}
