/**
 * Configuration of the approvals app: HTTP mode needs the signing secret, Socket Mode the app
 * token, and `SLACK_SOCKET_MODE` overrides the default; the app votes with a registered
 * approvals-service key (`GATEHOUSE_SLACK_SIGNING_KEY`) and the keyset (`GATEHOUSE_KEYS`). No
 * server is started.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalsAppConfigError, createApprovalsApp } from '../../approvals/slack/app';
import { approvalsAppSettings } from '../../approvals/slack/main';
import type { ApprovalStore } from '../../approvals/store';
import { loadConfig } from '../../client/config';
import { startFakeSlack } from '../support/fake-slack';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, writeKeyFile } from '../../client/trust/key-files';
import { loadApprovalsTrust } from '../../approvals/slack/trust';
import { testTrust } from '../support/trust';

const store = {} as ApprovalStore;
const sendVote = async () => undefined;
/** The sessions' own view of what they wait for (the app checks every row against it). */
const state = async () => undefined;
const trust = { signingKey: testTrust().service, keyset: testTrust().keyset };
const env = (extra: Record<string, string>) => ({ GATEHOUSE_STACK_FILE: '/nonexistent/stack.json', ...extra });

describe('approvals app configuration', () => {
  test('http mode without a signing secret, socket mode without an app token, no temporal client: clear errors', () => {
    assert.throws(() => createApprovalsApp({ token: 'xoxb-1', store, sendVote, state, ...trust }), (e: ApprovalsAppConfigError) => e.type === 'ApprovalsAppConfigError' && /SLACK_SIGNING_SECRET/.test(e.message));
    assert.throws(() => createApprovalsApp({ token: 'xoxb-1', socketMode: true, store, sendVote, state, ...trust }), /SLACK_APP_TOKEN/);
    assert.throws(() => createApprovalsApp({ token: 'xoxb-1', signingSecret: 's', store, ...trust }), /temporal client/);
  });

  test('the app signs only with a registered approvals-service key', () => {
    const base = { token: 'xoxb-1', signingSecret: 's', store, sendVote, state, keyset: testTrust().keyset };
    assert.throws(() => createApprovalsApp({ ...base, signingKey: testTrust().approver('bob') }), /signs with a key of role `approvals-service`, not `approver`/);
    assert.throws(
      () => createApprovalsApp({ ...base, signingKey: generateSigningKey('rogue-service', 'approvals-service') }),
      /the approvals service key `ed25519:[0-9a-f]+` of `rogue-service` is not a live `approvals-service` key of the keyset/,
    );
  });

  test('key and keyset from the environment, else a development stack; clear errors when neither', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-approvals-trust-'));
    try {
      const keysFile = join(dir, 'keys.json');
      await writeFile(keysFile, JSON.stringify(testTrust().keyset));
      const keyFile = writeKeyFile(join(dir, 'own'), testTrust().service);
      const fromEnv = loadApprovalsTrust({ GATEHOUSE_KEYS: keysFile, GATEHOUSE_SLACK_SIGNING_KEY: keyFile });
      assert.equal(fromEnv.signingKey.keyId, testTrust().service.keyId);
      assert.equal(fromEnv.keyset.keys.length, testTrust().keyset.keys.length);
      const dev = generateSigningKey('dev-slack-approvals', 'approvals-service');
      writeKeyFile(join(dir, 'dev'), dev);
      assert.equal(loadApprovalsTrust({}, { keysetFile: keysFile, keyDir: join(dir, 'dev') }).signingKey.keyId, dev.keyId);
      assert.throws(() => loadApprovalsTrust({}), /the approvals service needs the keyset: set `GATEHOUSE_KEYS`/);
      assert.throws(() => loadApprovalsTrust({ GATEHOUSE_KEYS: keysFile }), /needs its signing key: set `GATEHOUSE_SLACK_SIGNING_KEY`/);
      await writeFile(keysFile, JSON.stringify({ ...testTrust().keyset, development: true }));
      assert.throws(() => loadApprovalsTrust({ GATEHOUSE_KEYS: keysFile, GATEHOUSE_SLACK_SIGNING_KEY: keyFile }, undefined, { production: true }), /holds development keys/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
      const app = createApprovalsApp({ token: 'xoxb-1', socketMode: true, appToken: 'xapp-1', store, sendVote, state, slackApiUrl: slack.url, ...trust });
      assert.ok(app.app);
      // Bolt verifies the bot token at construction (auth.test), against the fake here.
      const call = await slack.waitFor('auth.test');
      assert.equal(call.token, 'xoxb-1');
    } finally {
      await slack.close();
    }
  });
});
