/**
 * `GATEHOUSE_ENV` means one thing everywhere it is read (`deploymentEnv` in `client/config.ts`):
 * `production` in any case and spacing turns the production checks on in the worker, the gateway,
 * the approvals service and `gatehouse start`; a value that is neither `development` nor
 * `production` (`prod`) stops each of them before it reads anything else, with one clear line,
 * instead of quietly running as development.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../client/config';
import { KeysetFileError } from '../../client/trust/keyset-file';
import { startApprovalsFromConfig } from '../../approvals/slack/main';
import { ensureDevelopmentKeys, type DevelopmentKeys } from '../../worker/devstack/dev-keys';
import { stackKeys, StackKeysError } from '../../worker/devstack/stack-keys';
import { runMain } from '../support/run-main';
import { cliEnv } from './cli-env';

let root: string;
let dev: DevelopmentKeys;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-deployment-env-'));
  dev = ensureDevelopmentKeys(join(root, 'dev'), ['alice']);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const refusedValue = (value: string) => `\`GATEHOUSE_ENV\` must be \`development\` or \`production\` (unset means development), got \`${value}\``;
const refusedDevKeys = () => `keyset \`${dev.keysetFile}\` holds development keys, which a production deployment refuses: register real keys (\`gatehouse keys create\`)`;


function serviceEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...cliEnv(join(root, 'env')),
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    GATEHOUSE_PRODUCTION_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    GATEHOUSE_KEYS: dev.keysetFile,
    ...extra,
  };
}

for (const [name, main] of [['worker', 'worker/main.ts'], ['gateway', 'gateway/main.ts']] as const) {
  describe(`the ${name} process`, () => {
    it('refuses to start on a GATEHOUSE_ENV that is neither development nor production', async () => {
      const r = await runMain(main, serviceEnv({ GATEHOUSE_ENV: 'prod' }));
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `gatehouse ${name}: ${refusedValue('prod')}\n`);
    });

    it('reads `Production ` as production: a development keyset is refused', async () => {
      const r = await runMain(main, serviceEnv({ GATEHOUSE_ENV: 'Production ' }));
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `gatehouse ${name}: ${refusedDevKeys()}\n`);
    });
  });
}

describe('the gateway process', () => {
  it('lists the worker\'s catalog (`GATEHOUSE_CATALOG`): a module that does not load stops it before anything else', async () => {
    const r = await runMain('gateway/main.ts', serviceEnv({ GATEHOUSE_CATALOG: './no-such-catalog.ts' }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^gatehouse gateway: cannot load catalog module `\.\/no-such-catalog\.ts`: /);
  });
});

describe('the approvals service', () => {
  const env = (value: string) => serviceEnv({ GATEHOUSE_ENV: value, SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', GATEHOUSE_SLACK_SIGNING_KEY: join(dev.keyDir, 'dev-slack-approvals.approvals-service.key') });

  it('refuses to start on a GATEHOUSE_ENV that is neither development nor production', async () => {
    const e = env('Prod.');
    await assert.rejects(startApprovalsFromConfig(loadConfig(e), e), (err: unknown) => err instanceof ConfigError && err.message === refusedValue('Prod.'));
  });

  it('reads `PRODUCTION` as production: a development keyset is refused', async () => {
    const e = env('PRODUCTION');
    await assert.rejects(startApprovalsFromConfig(loadConfig(e), e), (err: unknown) => err instanceof KeysetFileError && err.message === refusedDevKeys());
  });
});

describe('gatehouse start (the stack\'s keys)', () => {
  const quiet = () => undefined;

  it('refuses a GATEHOUSE_ENV that is neither development nor production, and makes no keys', () => {
    const keyDir = join(root, 'stack-prod');
    assert.throws(() => stackKeys({ GATEHOUSE_ENV: 'prod' }, keyDir, ['alice'], quiet), (err: unknown) => err instanceof ConfigError && err.message === refusedValue('prod'));
    assert.throws(() => stackKeys({ GATEHOUSE_ENV: 'prod', GATEHOUSE_KEYS: dev.keysetFile }, keyDir, ['alice'], quiet), ConfigError);
    assert.equal(existsSync(keyDir), false);
  });

  it('reads ` production` as production: development keys and a stack without GATEHOUSE_KEYS are refused', () => {
    assert.throws(() => stackKeys({ GATEHOUSE_ENV: ' production', GATEHOUSE_KEYS: dev.keysetFile }, join(root, 'stack-dev'), [], quiet), (err: unknown) => err instanceof KeysetFileError && err.message === refusedDevKeys());
    assert.throws(() => stackKeys({ GATEHOUSE_ENV: ' production' }, join(root, 'stack-none'), ['alice'], quiet), StackKeysError);
  });

  it('development, or nothing, makes the development keys', () => {
    assert.equal(stackKeys({ GATEHOUSE_ENV: 'Development' }, join(root, 'stack-dev-keys'), ['alice'], quiet).keyset.development, true);
    assert.equal(stackKeys({ GATEHOUSE_ENV: '' }, join(root, 'stack-dev-keys'), ['alice'], quiet).keyset.development, true);
  });
});
