/**
 * Configuration of the approvals app: HTTP mode needs the signing secret, Socket Mode the app
 * token, and `SLACK_SOCKET_MODE` overrides the default. No server is started.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalsAppConfigError, createApprovalsApp } from '../../approvals/app';
import { approvalsAppSettings } from '../../approvals/main';
import type { ApprovalStore } from '../../approvals/store';
import { loadConfig } from '../../client/config';
import { startFakeSlack } from '../support/fake-slack';

const store = {} as ApprovalStore;
const signal = async () => undefined;
const env = (extra: Record<string, string>) => ({ GATEHOUSE_STACK_FILE: '/nonexistent/stack.json', ...extra });

describe('approvals app configuration', () => {
  test('http mode without a signing secret, socket mode without an app token, no temporal client: clear errors', () => {
    assert.throws(() => createApprovalsApp({ token: 'xoxb-1', store, signal }), (e: ApprovalsAppConfigError) => e.type === 'ApprovalsAppConfigError' && /SLACK_SIGNING_SECRET/.test(e.message));
    assert.throws(() => createApprovalsApp({ token: 'xoxb-1', socketMode: true, store, signal }), /SLACK_APP_TOKEN/);
    assert.throws(() => createApprovalsApp({ token: 'xoxb-1', signingSecret: 's', store }), /temporal client/);
  });

  test('settings from the environment: http by default, socket mode with an app token or SLACK_SOCKET_MODE', () => {
    const http = approvalsAppSettings(loadConfig(env({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_PORT: '3999', SLACK_API_URL: 'http://127.0.0.1:1/api/' })), {});
    assert.deepEqual(http, { token: 'xoxb-1', signingSecret: 's', socketMode: false, port: 3999, slackApiUrl: 'http://127.0.0.1:1/api/' });
    const socket = approvalsAppSettings(loadConfig(env({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })), {});
    assert.equal(socket.socketMode, true);
    const forcedOff = approvalsAppSettings(loadConfig(env({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', SLACK_SIGNING_SECRET: 's' })), { SLACK_SOCKET_MODE: 'false' });
    assert.equal(forcedOff.socketMode, false);
    assert.throws(() => approvalsAppSettings(loadConfig(env({ SLACK_BOT_TOKEN: 'xoxb-1' })), { SLACK_SOCKET_MODE: 'maybe' }), /`SLACK_SOCKET_MODE` must be true or false, got `maybe`/);
    assert.throws(() => approvalsAppSettings(loadConfig(env({})), {}), /SLACK_BOT_TOKEN/);
  });

  test('a socket mode app is built without opening any port; its client talks to the configured api url', async () => {
    const slack = await startFakeSlack();
    try {
      const app = createApprovalsApp({ token: 'xoxb-1', socketMode: true, appToken: 'xapp-1', store, signal, slackApiUrl: slack.url });
      assert.ok(app.app);
      // Bolt verifies the bot token at construction (auth.test), against the fake here.
      const call = await slack.waitFor('auth.test');
      assert.equal(call.token, 'xoxb-1');
    } finally {
      await slack.close();
    }
  });
});
